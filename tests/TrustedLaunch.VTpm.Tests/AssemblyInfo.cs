// These tests drive Linux-only tools and file modes (swtpm, tpm2-tools, libtpms, 0600 keys).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
