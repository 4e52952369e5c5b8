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
        if (writable && !FileLocking.TryLockExclusive(stream.SafeFileHandle))
        {
            stream.Dispose();
            throw new VmgsFileInUseException($"{full} is open for writing by another process or handle (a running VM's tl-vtpm, or another tl command).");
        }

        return new FileBlockStorage(stream, full, writable);
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
