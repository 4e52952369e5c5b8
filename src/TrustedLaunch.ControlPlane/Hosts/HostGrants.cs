using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.Hosts;

/// <summary>
/// Where a host may register resources it did not get from the control plane (a libvirt domain it attests, a backup it restored as a
/// disk): only into a resource group that grants it, by the group's tag <see cref="Tag"/> — a comma-separated list of host names, or
/// <c>*</c> for every host. The grant is the group's, so whoever may write the group (its Contributors, RBAC) decides which hosts put
/// resources in it; a host alone never can. Anything else is Azure's <c>AuthorizationFailed</c> (403) naming the host and the group.
/// </summary>
public static class HostGrants
{
    public const string Tag = "trustedLaunch.registeringHosts";

    public static bool Grants(ResourceGroupRecord group, string hostName)
    {
        ArgumentNullException.ThrowIfNull(group);
        foreach ((string name, string value) in group.Tags ?? new Dictionary<string, string>())
        {
            if (name.Equals(Tag, StringComparison.OrdinalIgnoreCase)
                && value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .Any(h => h == "*" || h.Equals(hostName, StringComparison.OrdinalIgnoreCase)))
                return true;
        }

        return false;
    }

    /// <summary>Null when <paramref name="group"/> grants <paramref name="hostName"/>; else the 403 for <paramref name="action"/>.</summary>
    public static ArmFailure? Check(ResourceGroupRecord group, string hostName, string action)
    {
        if (Grants(group, hostName))
            return null;
        string scope = $"/subscriptions/{group.SubscriptionId}/resourceGroups/{group.Name}";
        return ArmErrors.Fail(403, "AuthorizationFailed",
            $"The client 'host:{hostName}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. " +
            $"Resource group '{group.Name}' does not grant host '{hostName}': a host registers resources only into a group whose tag '{Tag}' names it " +
            "(comma-separated host names, or '*'); set it with 'tl group create --tags' or a PUT of the group.", "resourceGroup");
    }
}
