using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Network;

/// <summary>
/// A Microsoft.Network resource as stored: its type, name, location, version (the ETag) and its accepted body
/// (<c>properties</c>, <c>sku</c>, <c>tags</c> as JSON, with what the platform computed: private IPs, MACs, FQDNs).
/// Subnets live inside their virtual network's body, as Azure returns them.
/// </summary>
public sealed record NetworkResourceRecord
{
    public required string SubscriptionId { get; init; }

    public required string ResourceGroup { get; init; }

    /// <summary>The ARM type, e.g. <c>Microsoft.Network/virtualNetworks</c>.</summary>
    public required string Type { get; init; }

    public required string Name { get; init; }

    public required string Location { get; init; }

    public required long Version { get; init; }

    public required string BodyJson { get; init; }

    public required DateTimeOffset ChangedAt { get; init; }
}

/// <summary>The network resources, keyed by subscription, group, type and name (case-insensitive).</summary>
public interface INetworkResourceStore
{
    Task<NetworkResourceRecord?> GetAsync(string subscriptionId, string resourceGroup, string type, string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<NetworkResourceRecord>> ListAsync(string subscriptionId, string resourceGroup, string type, CancellationToken cancellationToken);

    /// <summary>Every resource of a type in the subscription (references may cross resource groups).</summary>
    Task<IReadOnlyList<NetworkResourceRecord>> ListInSubscriptionAsync(string subscriptionId, string type, CancellationToken cancellationToken);

    /// <summary>
    /// Inserts (<paramref name="expectedVersion"/> null: must not exist, and its resource group must exist and not be
    /// being deleted, checked in the same transaction) or replaces the row at that version.
    /// </summary>
    Task<WriteOutcome> SaveAsync(NetworkResourceRecord resource, long? expectedVersion, CancellationToken cancellationToken);

    Task<bool> RemoveAsync(string subscriptionId, string resourceGroup, string type, string name, CancellationToken cancellationToken);
}
