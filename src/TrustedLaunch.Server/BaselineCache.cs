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
public sealed class BaselineCache
{
    // Bounds the memory to about this many baselines; reaching it (a large fleet) just starts over.
    private const int Capacity = 1024;

    private readonly ConcurrentDictionary<Guid, Entry> _entries = new();

    /// <summary>The baseline <paramref name="stored"/> holds, parsed once per distinct JSON text of its VM.</summary>
    public AttestationBaseline Get(StoredBaseline stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (_entries.TryGetValue(stored.VmId, out Entry? cached) && string.Equals(cached.Json, stored.BaselineJson, StringComparison.Ordinal))
            return cached.Baseline;

        AttestationBaseline baseline = AttestationBaseline.FromJson(Encoding.UTF8.GetBytes(stored.BaselineJson));
        if (_entries.Count >= Capacity)
            _entries.Clear();
        _entries[stored.VmId] = new Entry(stored.BaselineJson, baseline);
        return baseline;
    }

    private sealed record Entry(string Json, AttestationBaseline Baseline);
}
