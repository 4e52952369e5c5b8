using Microsoft.Win32.SafeHandles;

namespace TrustedLaunch.Vmgs.Storage;

/// <summary>
/// A host file as block storage, through <see cref="RandomAccess"/> (pread/pwrite, no buffering of our own).
/// A writable instance holds an exclusive open-file-description lock (Linux <c>F_OFD_SETLK</c>) for its
/// lifetime: a second writer, in this or another process, is refused; readers take no lock and stay safe
/// because the writer never overwrites data a committed header points to.
/// </summary>
public sealed class FileBlockStorage : IBlockStorage
{
    private readonly FileStream _stream;
    private readonly SafeFileHandle _handle;

    private FileBlockStorage(FileStream stream, string path, bool writable)
    {
        _stream = stream;
        _handle = stream.SafeFileHandle;
        FilePath = path;
        CanWrite = writable;
    }

    /// <summary>The absolute path.</summary>
    public string FilePath { get; }

    public bool CanWrite { get; }

    public long Length => RandomAccess.GetLength(_handle);

    /// <summary>Opens an existing file; with <paramref name="writable"/> it takes the writer lock.</summary>
    /// <exception cref="VmgsFileInUseException">Another writer holds the file.</exception>
    public static FileBlockStorage Open(string path, bool writable) =>
        OpenCore(path, FileMode.Open, writable);

    /// <summary>Creates a new file (mode 0600) and takes the writer lock; fails if it exists.</summary>
    public static FileBlockStorage CreateNew(string path) => OpenCore(path, FileMode.CreateNew, writable: true);

    private static FileBlockStorage OpenCore(string path, FileMode mode, bool writable)
    {
        string full = Path.GetFullPath(path);
        var options = new FileStreamOptions
        {
            Mode = mode,
            Access = writable ? FileAccess.ReadWrite : FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 0, // all I/O goes through RandomAccess on the handle
        };
        if (mode == FileMode.CreateNew && !OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var stream = new FileStream(full, options);
        if (writable && !TryLockWithin(stream, LockContentionGrace))
        {
            stream.Dispose();
            throw new VmgsFileInUseException($"{full} is open for writing by another process or handle (a running VM's tl-vtpm, or another tl command).");
        }

        return new FileBlockStorage(stream, full, writable);
    }

    // A process forked elsewhere in this process shares our open file descriptions until its exec closes them
    // (O_CLOEXEC), and with them the OFD lock of a file we just closed: a hold of microseconds. A real writer (a
    // running VM's tl-vtpm) holds the lock for as long as it runs, far beyond this grace.
    private static readonly TimeSpan LockContentionGrace = TimeSpan.FromMilliseconds(100);

    private static bool TryLockWithin(FileStream stream, TimeSpan grace)
    {
        long deadline = Environment.TickCount64 + (long)grace.TotalMilliseconds;
        while (!FileLocking.TryLockExclusive(stream.SafeFileHandle))
        {
            if (Environment.TickCount64 >= deadline)
                return false;
            Thread.Sleep(5);
        }

        return true;
    }

    public int Read(long offset, Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = RandomAccess.Read(_handle, destination[total..], offset + total);
            if (n == 0)
                break;
            total += n;
        }

        return total;
    }

    public void Write(long offset, ReadOnlySpan<byte> source) => RandomAccess.Write(_handle, source, offset);

    public void Flush() => RandomAccess.FlushToDisk(_handle);

    public void SetLength(long length) => RandomAccess.SetLength(_handle, length);

    public void Dispose() => _stream.Dispose(); // closing the description releases the OFD lock
}

/// <summary>The file already has a writer.</summary>
public sealed class VmgsFileInUseException : IOException
{
    public VmgsFileInUseException() { }

    public VmgsFileInUseException(string message) : base(message) { }

    public VmgsFileInUseException(string message, Exception innerException) : base(message, innerException) { }
}
