using System.Collections.Concurrent;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>Subscriptions: one default created at first start; every ARM path starts with one that must exist.</summary>
public sealed class SubscriptionService(ISubscriptionStore store, TimeProvider time)
{
    // Subscriptions are never removed, so a positive answer can be remembered.
    private readonly ConcurrentDictionary<string, bool> _known = new(StringComparer.OrdinalIgnoreCase);

    public async Task<SubscriptionRecord> EnsureDefaultAsync(CancellationToken cancellationToken)
    {
        SubscriptionRecord subscription = await store.EnsureDefaultAsync(time.GetUtcNow(), cancellationToken);
        _known[subscription.SubscriptionId] = true;
        return subscription;
    }

    /// <summary>Null when <paramref name="subscriptionId"/> is a GUID naming a subscription; else 400 or 404.</summary>
    public async Task<ArmFailure?> CheckAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckSubscriptionId(subscriptionId) is ArmFailure invalid)
            return invalid;
        if (_known.ContainsKey(subscriptionId))
            return null;
        if (await store.GetAsync(subscriptionId, cancellationToken) is null)
            return ArmErrors.SubscriptionNotFound(subscriptionId);
        _known[subscriptionId] = true;
        return null;
    }

    public async Task<ArmResult<SubscriptionResource>> GetAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckSubscriptionId(subscriptionId) is ArmFailure invalid)
            return invalid;
        SubscriptionRecord? subscription = await store.GetAsync(subscriptionId, cancellationToken);
        return subscription is null ? ArmErrors.SubscriptionNotFound(subscriptionId) : ArmResult.Ok<SubscriptionResource>(View(subscription));
    }

    public async Task<ArmList<SubscriptionResource>> ListAsync(CancellationToken cancellationToken) =>
        new() { Value = (await store.ListAsync(cancellationToken)).Select(View).ToArray() };

    private SubscriptionResource View(SubscriptionRecord subscription) => new()
    {
        Id = ResourceIds.Subscription(subscription.SubscriptionId),
        SubscriptionId = subscription.SubscriptionId,
        DisplayName = subscription.DisplayName,
        State = "Enabled",
        SubscriptionPolicies = new SubscriptionPolicies { LocationPlacementId = "Public_2014-09-01", QuotaId = "Internal_2014-09-01" },
    };
}
