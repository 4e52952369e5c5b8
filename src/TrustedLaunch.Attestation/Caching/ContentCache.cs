using System.Collections.Concurrent;

namespace TrustedLaunch.Attestation;

/// <summary>
/// Results of pure functions of byte content (a digest, a log's replay), remembered by the content itself. A hit
/// requires the bytes to equal, by full comparison, the bytes the result was computed from, so a hit returns exactly
/// what recomputing would; the 32-bit <see cref="HashCode"/> only picks the slot (its per-process seed keeps colliding
/// inputs from being chosen in advance, and a collision is only a miss). Why: a fleet's evidence repeats the same
/// kilobytes (Microsoft's db certificates, one image's boot log re-attested every few minutes), and comparing them
/// costs a fraction of hashing or replaying them again. Bounded, since evidence is attacker-supplied: content over
/// <c>maxContentBytes</c> is never kept, and the cache is emptied before it would hold more than <c>maxEntries</c>
/// entries or <c>maxTotalBytes</c> bytes of content. Owned by a <see cref="VerificationCaches"/>, which the host creates.
/// </summary>
internal sealed class ContentCache<TValue>(int maxEntries, long maxTotalBytes, int maxContentBytes) where TValue : class
{
    private readonly ConcurrentDictionary<(int Tag, int Length, int Hash), Entry> _entries = new();
    private long _bytes;

    /// <summary>The remembered result for <paramref name="content"/> under <paramref name="tag"/> (e.g. an algorithm).</summary>
    public bool TryGet(int tag, ReadOnlySpan<byte> content, out TValue? value)
    {
        if (content.Length <= maxContentBytes && _entries.TryGetValue(Key(tag, content), out Entry? entry) && content.SequenceEqual(entry.Content))
        {
            value = entry.Value;
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>Remembers <paramref name="value"/> as the result for a copy of <paramref name="content"/>.</summary>
    public void Add(int tag, ReadOnlySpan<byte> content, TValue value)
    {
        if (maxEntries <= 0 || content.Length > maxContentBytes)
            return;
        if (_entries.Count >= maxEntries || Interlocked.Add(ref _bytes, content.Length) > maxTotalBytes)
        {
            // Racing adders may each clear; the bound holds either way, and a lost entry is only a miss.
            _entries.Clear();
            Interlocked.Exchange(ref _bytes, content.Length);
        }

        _entries[Key(tag, content)] = new Entry(content.ToArray(), value);
    }

    private static (int, int, int) Key(int tag, ReadOnlySpan<byte> content)
    {
        var hash = new HashCode();
        hash.AddBytes(content);
        return (tag, content.Length, hash.ToHashCode());
    }

    private sealed record Entry(byte[] Content, TValue Value);
}
