// The shim scripts' modes and the real swtpm tools these tests compare with are Linux-only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
