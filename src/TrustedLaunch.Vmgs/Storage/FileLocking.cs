using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TrustedLaunch.Vmgs.Storage;

/// <summary>
/// Linux open-file-description locks and directory fsync, which .NET does not expose. OFD locks (fcntl(2)
/// F_OFD_SETLK) belong to the open file, not the process, so unlike FileStream.Lock's classic POSIX locks
/// they conflict between two handles in one process and are not dropped when some other handle to the same
/// file is closed. The kernel releases them when the process dies, so a SIGKILLed writer never leaves a lock.
/// </summary>
internal static partial class FileLocking
{
    private const int FOfdSetLk = 37; // F_OFD_SETLK, linux/fcntl.h
    private const short FWrLck = 1;   // F_WRLCK
    private const int ODirectory = 0x10000; // O_RDONLY | O_DIRECTORY (x86-64/arm64)

    [StructLayout(LayoutKind.Sequential)]
    private struct FLock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    /// <summary>Takes a whole-file write lock without waiting; false when another description holds one.</summary>
    public static bool TryLockExclusive(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
            return true; // other platforms: no locking (the product runs on Linux hosts)
        var request = new FLock { Type = FWrLck, Whence = 0, Start = 0, Length = 0, Pid = 0 };
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            int rc = Fcntl((int)handle.DangerousGetHandle(), FOfdSetLk, ref request);
            if (rc == 0)
                return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno is 11 or 13) // EAGAIN / EACCES: held by someone else
                return false;
            throw new IOException($"fcntl(F_OFD_SETLK) failed: errno {errno}.");
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    /// <summary>fsync(2) on a directory so that a rename into it is durable.</summary>
    public static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return;
        int fd = Open(directory, ODirectory);
        if (fd < 0)
            throw new IOException($"open({directory}) failed: errno {Marshal.GetLastPInvokeError()}.");
        try
        {
            if (Fsync(fd) != 0)
                throw new IOException($"fsync({directory}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, ref FLock lockRequest);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
