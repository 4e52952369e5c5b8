using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace TrustedLaunch.Cli.Commands.SecureBoot;

/// <summary>
/// An EFI image file mapped read-only and handed to the verifier as memory, instead of copied into a fresh array (the
/// kernel's copy and the array's page faults were half of <c>tl secureboot verify</c>'s CPU, docs/benchmarks.md).
/// A file truncated while it is mapped: the next read of a page past its new end raises SIGBUS, which ends <c>tl</c>
/// (exit status 135 in a shell) before any verdict is printed. That is fail-closed, and decided: a file rewritten
/// under the verifier has no verdict anyway, and nothing is printed that the bytes did not earn.
/// </summary>
internal sealed unsafe class MappedImageFile : MemoryManager<byte>
{
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _start;
    private readonly int _length;

    private MappedImageFile(MemoryMappedFile? file, MemoryMappedViewAccessor? view, int length)
    {
        _file = file;
        _view = view;
        _length = length;
        if (view is null)
            return;
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        _start = start + view.PointerOffset;
    }

    /// <summary>
    /// Maps <paramref name="path"/>, a file of up to <paramref name="maxSize"/> bytes, else a <see cref="CliException"/>
    /// (bad input). What stat says has no bytes (an empty file; a FIFO or a device, which are no images) is not opened
    /// and maps to no bytes, which the verifier refuses as a malformed image.
    /// </summary>
    public static MappedImageFile Open(string path, long maxSize)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new CliException(ExitCode.BadInput, $"Image file not found: {path}");
        long length = info.Length;
        if (length > maxSize)
            throw new CliException(ExitCode.BadInput, $"{path} is {length} bytes; EFI images above {maxSize} bytes are not accepted.");
        if (length == 0)
            return new MappedImageFile(null, null, 0);

        MemoryMappedFile file;
        try
        {
            file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, length, MemoryMappedFileAccess.Read);
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            // Shrunk since the stat (the mapping would outrun it) or unreadable.
            throw new CliException(ExitCode.BadInput, $"{path} cannot be mapped ({e.Message}); was it changed while being opened?", e);
        }

        try
        {
            return new MappedImageFile(file, file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read), (int)length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public override Span<byte> GetSpan() => new(_start, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        return new MemoryHandle(_start + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing || _view is null)
            return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file!.Dispose();
    }
}
