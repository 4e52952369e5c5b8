// The host agent and its VMs run on Linux (QEMU/KVM, Unix sockets, file modes).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
