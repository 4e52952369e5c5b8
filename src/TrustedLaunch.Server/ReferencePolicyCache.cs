using System.Collections.Concurrent;
using System.Text;
using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server;

/// <summary>
/// Parsed reference policies, so an attestation does not parse JSON and build the command-line regex again (the
/// policy builds it once and keeps it). Keyed by name and validated against the stored JSON text on every use: a
/// policy replaced by another replica or by the CLI (straight into the database) takes effect at the next
/// attestation, and the service still keeps no state the database does not have.
/// </summary>
public sealed class ReferencePolicyCache
{
    // Far above any real number of policies; reaching it (names churned) just starts over.
    private const int Capacity = 1024;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The policy <paramref name="stored"/> holds, parsed once per distinct JSON text.</summary>
    /// <exception cref="StoreException">The stored JSON is no longer a valid policy (the database was edited by hand).</exception>
    public ReferencePolicy Get(StoredPolicy stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (_entries.TryGetValue(stored.Name, out Entry? cached) && string.Equals(cached.Json, stored.PolicyJson, StringComparison.Ordinal))
            return cached.Policy;

        ReferencePolicy policy;
        try
        {
            policy = PolicyDocument.Parse(Encoding.UTF8.GetBytes(stored.PolicyJson), stored.Name);
        }
        catch (FormatException e)
        {
            throw new StoreException($"The stored policy '{stored.Name}' is not valid: {e.Message}", e);
        }

        if (_entries.Count >= Capacity)
            _entries.Clear();
        _entries[stored.Name] = new Entry(stored.PolicyJson, policy);
        return policy;
    }

    /// <summary>Drops the parsed policy of <paramref name="name"/> (replaced or removed through this process).</summary>
    public void Forget(string name) => _entries.TryRemove(name, out _);

    private sealed record Entry(string Json, ReferencePolicy Policy);
}
