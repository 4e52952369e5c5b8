// The portal's browser tests drive real VMs (QEMU/KVM, Unix sockets) and Debian's chromium.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
