using System.Text.Json;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.Portal.Data;

/// <summary>
/// Reads an ARM list where the signed-in user may read it: once at the subscription when a role of theirs reaches it,
/// else once in each resource group they see (the API refuses a subscription-wide list to a principal whose roles
/// are only at resource groups, and answers its groups' lists).
/// </summary>
public sealed class ScopedLists(PortalArmClient arm, ResourceGroupService groups)
{
    /// <summary>The resource groups of the subscription the user sees, by name.</summary>
    public async Task<IReadOnlyList<string>> GroupsAsync(PortalUser user, string subscriptionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        return (await groups.ListAsync(subscriptionId, cancellationToken))
            .Where(g => g.State == ResourceGroupState.Succeeded && user.SeesGroup(subscriptionId, g.Name))
            .Select(g => g.Name).Order(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>
    /// The scopes to read from: <c>/subscriptions/{id}</c> alone, or each visible <c>…/resourceGroups/{name}</c>.
    /// <paramref name="perGroupOnly"/> for lists ARM serves only per group (deployments).
    /// </summary>
    public async Task<IReadOnlyList<string>> ScopesAsync(PortalUser user, string subscriptionId, bool perGroupOnly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        string subscription = "/subscriptions/" + Uri.EscapeDataString(subscriptionId);
        if (!perGroupOnly && user.SeesSubscription(subscriptionId))
            return [subscription];
        return (await GroupsAsync(user, subscriptionId, cancellationToken)).Select(g => subscription + "/resourceGroups/" + Uri.EscapeDataString(g)).ToList();
    }

    /// <summary>
    /// The <c>value</c> items of <c>{scope}{relativePath}</c> over every scope of <see cref="ScopesAsync"/>; a scope
    /// the API refuses contributes nothing and its message is returned (shown on the page).
    /// </summary>
    public async Task<(IReadOnlyList<JsonElement> Items, IReadOnlyList<string> Refusals)> ListAsync(PortalUser user, string subscriptionId, string relativePath,
        string apiVersion, CancellationToken cancellationToken, bool perGroupOnly = false)
    {
        var items = new List<JsonElement>();
        var refusals = new List<string>();
        foreach (string scope in await ScopesAsync(user, subscriptionId, perGroupOnly, cancellationToken))
        {
            ArmReply reply = await arm.GetAsync(scope + relativePath, apiVersion, cancellationToken);
            if (reply.Succeeded)
                items.AddRange(reply.Values());
            else
                refusals.Add(reply.ErrorMessage);
        }

        return (items, refusals);
    }
}
