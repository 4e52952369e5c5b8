namespace TrustedLaunch.Vmgs.Storage;

/// <summary>An in-memory storage: for tests, tooling that builds a VMGS before writing it out, and benchmarks.</summary>
public sealed class MemoryBlockStorage : IBlockStorage
{
    private byte[] _bytes;
    private long _length;

    public MemoryBlockStorage() => _bytes = [];

    public MemoryBlockStorage(ReadOnlySpan<byte> initial)
    {
        _bytes = initial.ToArray();
        _length = _bytes.Length;
    }

    public long Length => _length;

    public bool CanWrite => true;

    /// <summary>A copy of the current content.</summary>
    public byte[] ToArray() => _bytes.AsSpan(0, (int)_length).ToArray();

    public int Read(long offset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset >= _length)
            return 0;
        int count = (int)Math.Min(destination.Length, _length - offset);
        _bytes.AsSpan((int)offset, count).CopyTo(destination);
        return count;
    }

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        long end = offset + source.Length;
        if (end > _length)
            SetLength(end);
        source.CopyTo(_bytes.AsSpan((int)offset));
    }

    public void Flush()
    {
        // Memory is as durable as it gets.
    }

    public void SetLength(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Array.MaxLength);
        if (length > _bytes.Length)
            Array.Resize(ref _bytes, (int)Math.Max(length, Math.Min(Array.MaxLength, _bytes.Length * 2L)));
        if (length < _length)
            _bytes.AsSpan((int)length, (int)(_length - length)).Clear();
        _length = length;
    }

    public void Dispose()
    {
        // Nothing to release.
    }
}
