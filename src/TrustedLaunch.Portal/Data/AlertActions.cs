namespace TrustedLaunch.Portal.Data;

/// <summary>An alert's status change through the API (<c>POST …/alerts/{name}/{action}</c>), with a sentence for the page.</summary>
public static class AlertActions
{
    public static readonly IReadOnlyList<string> Actions = ["activate", "inProgress", "resolve", "dismiss"];

    public static async Task<string> ChangeAsync(PortalArmClient arm, string subscriptionId, string location, string name, string action)
    {
        ArgumentNullException.ThrowIfNull(arm);
        if (!Actions.Contains(action))
            return $"Unknown action '{action}'.";
        ArmReply reply = await arm.PostAsync(
            $"/subscriptions/{subscriptionId}/providers/Microsoft.Security/locations/{Uri.EscapeDataString(location)}/alerts/{Uri.EscapeDataString(name)}/{action}",
            PortalArmClient.SecurityAlertsApi, null, CancellationToken.None);
        return reply.Succeeded ? $"Alert {name}: {action} done." : $"Alert {name}: {action} refused: {reply.ErrorMessage}";
    }
}
