using System.Runtime.InteropServices;

namespace TrustedLaunch.Runtime;

/// <summary>The few libc calls the runtime needs that .NET does not expose: KVM probing.</summary>
internal static partial class LinuxInterop
{
    public const int OpenReadWrite = 0x2;      // O_RDWR
    public const int OpenCloseOnExec = 0x80000; // O_CLOEXEC

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    // ioctl(int fd, unsigned long request, ...): the KVM_* requests used here take no argument.
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int IoControl(int fd, nuint request, nint argument);
}
