namespace TrustedLaunch.Storage;

/// <summary>
/// A store that lives only as long as the process: for ephemeral vTPMs, tests, and read-only inspection of a
/// state that must not be written back (seed it with <see cref="EphemeralNonVolatileStore(ReadOnlySpan{byte})"/>).
/// </summary>
public sealed class EphemeralNonVolatileStore : INonVolatileStore
{
    private readonly Lock _gate = new();
    private byte[]? _blob;

    public EphemeralNonVolatileStore() { }

    public EphemeralNonVolatileStore(ReadOnlySpan<byte> initial) => _blob = initial.ToArray();

    /// <summary>How many times <see cref="Persist"/> ran; lets callers see write amplification.</summary>
    public int PersistCount { get; private set; }

    public void Persist(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            _blob = data.ToArray();
            PersistCount++;
        }
    }

    public byte[]? Restore()
    {
        lock (_gate)
            return _blob?.ToArray();
    }
}
