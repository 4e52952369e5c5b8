using System.Runtime.InteropServices;

namespace TrustedLaunch.HostSystem;

/// <summary>The libc calls .NET does not expose that the host chores need: directory fsync, fdatasync, signals, euid.</summary>
internal static partial class Libc
{
    public const int OpenReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY (Linux x86-64/arm64)
    public const int SignalTerminate = 15;            // SIGTERM
    public const int SignalKill = 9;                  // SIGKILL

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    public static partial int Fdatasync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int SendSignal(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEffectiveUserId();
}
