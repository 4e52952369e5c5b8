using System.Collections.Concurrent;
using System.Text;
using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server;

/// <summary>
/// Parsed baselines, so an attestation does not parse its VM's baseline JSON again (≈ 5 % of the service's CPU per
/// attestation, docs/benchmarks.md). Keyed by VM and validated against the stored JSON text on every use, as
/// <see cref="ReferencePolicyCache"/> is: a baseline relearned or armed by another replica takes effect at the next
/// attestation, and the service keeps no state the database does not have.
/// </summary>
/// <remarks>
/// Every replica behind a load balancer sees the whole fleet, each VM once per attestation interval, so the cache must
/// hold the fleet or it misses on every attestation (docs/benchmarks.md, the fleet profile: at 1,024 entries and 3,000
/// VMs it did). Two generations bound the memory: a full current generation becomes the previous one and the one before
/// is dropped, and a hit in the previous generation moves the VM forward — a fleet up to one generation's size always
/// hits, a VM not seen for two generations' worth of other VMs is parsed again.
/// </remarks>
public sealed class BaselineCache
{
    // A 10,000-VM fleet with room. Memory grows with the fleet: each entry keeps its JSON text (the corpus boot's baseline
    // is 10.9 KB of UTF-8, ≈ 22 KB as a string) beside the parsed baseline; keeping a hash of the text instead is the next step.
    private const int DefaultGenerationSize = 16_384;

    private readonly int _generationSize;
    private readonly Lock _rotation = new();
    private volatile Generations _generations = new(new(), new());

    public BaselineCache()
        : this(DefaultGenerationSize)
    {
    }

    internal BaselineCache(int generationSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(generationSize);
        _generationSize = generationSize;
    }

    /// <summary>The parsed baselines held now (both generations).</summary>
    internal int Count
    {
        get
        {
            Generations g = _generations;
            return g.Current.Count + g.Previous.Count;
        }
    }

    /// <summary>The baseline <paramref name="stored"/> holds, parsed once per distinct JSON text of its VM.</summary>
    public AttestationBaseline Get(StoredBaseline stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        Generations g = _generations;
        if (g.Current.TryGetValue(stored.VmId, out Entry? cached) && cached.Holds(stored))
            return cached.Baseline;
        if (g.Previous.TryGetValue(stored.VmId, out cached) && cached.Holds(stored))
        {
            Add(stored.VmId, cached);
            return cached.Baseline;
        }

        var entry = new Entry(stored.BaselineJson, AttestationBaseline.FromJson(Encoding.UTF8.GetBytes(stored.BaselineJson)));
        Add(stored.VmId, entry);
        return entry.Baseline;
    }

    private void Add(Guid vmId, Entry entry)
    {
        Generations g = _generations;
        if (g.Current.Count >= _generationSize)
        {
            lock (_rotation)
            {
                g = _generations;
                if (g.Current.Count >= _generationSize)
                    _generations = g = new Generations(new(), g.Current);
            }
        }

        g.Current[vmId] = entry;
    }

    private sealed record Entry(string Json, AttestationBaseline Baseline)
    {
        public bool Holds(StoredBaseline stored) => string.Equals(Json, stored.BaselineJson, StringComparison.Ordinal);
    }

    private sealed record Generations(ConcurrentDictionary<Guid, Entry> Current, ConcurrentDictionary<Guid, Entry> Previous);
}
