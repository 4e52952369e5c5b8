using System.Runtime.Versioning;

// The VMGS library targets Linux hosts (OFD locks, fsync of directories, mode-0600 files).
[assembly: SupportedOSPlatform("linux")]
