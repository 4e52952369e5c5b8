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

    /// <summary>How many times <see cref="PersistAsync"/> ran; lets callers see write amplification.</summary>
    public int PersistCount { get; private set; }

    public ValueTask PersistAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _blob = data.ToArray();
            PersistCount++;
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]?> RestoreAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
            return ValueTask.FromResult(_blob?.ToArray());
    }
}
