using System.Text.Json;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server;

/// <summary>A stored policy as the API and <c>tl server policy show --json</c> present it: the policy and the VMs that use it.</summary>
public sealed record PolicyView(string Name, DateTimeOffset UpdatedAt, IReadOnlyList<Guid> Vms, JsonElement Policy)
{
    public static PolicyView From(StoredPolicy policy, IEnumerable<RegisteredVm> vms)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new(policy.Name, policy.UpdatedAt, VmsUsing(policy.Name, vms), ServiceJson.ParseElement(policy.PolicyJson));
    }

    /// <summary>The VMs among <paramref name="vms"/> held to the policy <paramref name="name"/>.</summary>
    public static Guid[] VmsUsing(string name, IEnumerable<RegisteredVm> vms) =>
        vms.Where(v => string.Equals(v.PolicyName, name, StringComparison.Ordinal)).Select(v => v.VmId).ToArray();
}
