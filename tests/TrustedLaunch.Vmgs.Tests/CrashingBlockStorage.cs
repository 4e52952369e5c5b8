using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Vmgs.Tests;

/// <summary>
/// Models a disk with a volatile write cache: writes are visible to reads at once but only durable after
/// <see cref="Flush"/>. After <c>budget</c> write/flush operations it "loses power": the operation throws and
/// <see cref="AfterCrash"/> yields what the disk may hold: none, all, or a torn prefix of the unflushed writes.
/// </summary>
internal sealed class CrashingBlockStorage : IBlockStorage
{
    private readonly MemoryBlockStorage _durable;
    private readonly MemoryBlockStorage _visible;
    private readonly List<(long Offset, byte[] Bytes)> _pending = [];
    private int _budget;

    public CrashingBlockStorage(byte[] durable, int budget)
    {
        _durable = new MemoryBlockStorage(durable);
        _visible = new MemoryBlockStorage(durable);
        _budget = budget;
    }

    public bool Crashed { get; private set; }

    public long Length => _visible.Length;

    public bool CanWrite => true;

    public int Read(long offset, Span<byte> destination) => _visible.Read(offset, destination);

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        Spend();
        _pending.Add((offset, source.ToArray()));
        _visible.Write(offset, source);
    }

    public void Flush()
    {
        Spend();
        foreach (var (offset, bytes) in _pending)
            _durable.Write(offset, bytes);
        _pending.Clear();
    }

    public void SetLength(long length)
    {
        Spend();
        _visible.SetLength(length);
        _durable.SetLength(length);
    }

    /// <summary>The possible disk images after the crash.</summary>
    public IEnumerable<(string Label, byte[] Image)> AfterCrash()
    {
        yield return ("unflushed lost", _durable.ToArray());
        var all = new MemoryBlockStorage(_durable.ToArray());
        foreach (var (offset, bytes) in _pending)
            all.Write(offset, bytes);
        yield return ("unflushed all written", all.ToArray());
        if (_pending.Count > 0)
        {
            foreach (int cut in new[] { 512, 1, _pending[^1].Bytes.Length / 2 })
            {
                var torn = new MemoryBlockStorage(_durable.ToArray());
                foreach (var (offset, bytes) in _pending.SkipLast(1))
                    torn.Write(offset, bytes);
                var (lastOffset, lastBytes) = _pending[^1];
                torn.Write(lastOffset, lastBytes.AsSpan(0, Math.Min(cut, lastBytes.Length)));
                yield return ($"last write torn after {cut} bytes", torn.ToArray());
            }
        }
    }

    private void Spend()
    {
        if (Crashed || _budget-- <= 0)
        {
            Crashed = true;
            throw new SimulatedPowerLossException();
        }
    }

    public void Dispose()
    {
        // Nothing to release.
    }
}

internal sealed class SimulatedPowerLossException : Exception
{
    public SimulatedPowerLossException() : base("simulated power loss") { }

    public SimulatedPowerLossException(string message) : base(message) { }

    public SimulatedPowerLossException(string message, Exception innerException) : base(message, innerException) { }
}
