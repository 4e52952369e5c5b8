// These tests drive Linux-only tools and file modes (swtpm, tpm2-tools, libtpms, 0600 keys).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// libtpms is one TPM per process (vtpm.md §1.1): tests that start it must not run concurrently.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
