using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TrustedLaunch.Vmgs.Storage;

/// <summary>
/// Linux open-file-description locks, which .NET does not expose. OFD locks (fcntl(2)
/// F_OFD_SETLK) belong to the open file, not the process, so unlike FileStream.Lock's classic POSIX locks
/// they conflict between two handles in one process and are not dropped when some other handle to the same
/// file is closed. The kernel releases them when the process dies, so a SIGKILLed writer never leaves a lock.
/// </summary>
internal static partial class FileLocking
{
    private const int FOfdSetLk = 37; // F_OFD_SETLK, linux/fcntl.h
    private const short FWrLck = 1;   // F_WRLCK

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

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, ref FLock lockRequest);
}
