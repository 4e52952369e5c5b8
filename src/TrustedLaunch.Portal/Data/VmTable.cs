using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Portal.Data;

/// <summary>One row of the virtual machines list.</summary>
public sealed record VmRow(
    string ResourceGroup,
    string Name,
    Guid VmId,
    string Location,
    string Size,
    PowerState Power,
    ProvisioningState Provisioning,
    string SecurityType,
    bool SecureBoot,
    bool VTpm,
    AttestationSummary? Attestation,
    string? Host);

/// <summary>What the list shows: a filter (text, power state, attestation health) and a sort column, from the query string.</summary>
public sealed record VmQuery(string? Text, string? Power, string? Health, string Sort, bool Descending, int Page)
{
    public const int PageSize = 100;

    public static readonly IReadOnlyList<string> SortColumns = ["name", "group", "power", "security", "attestation", "host"];
}

/// <summary>
/// Builds the VM list in process from the control plane's stores (one pass over the VMs, each host looked up once, the
/// latest attestation per VM), so the page answers fast on a large fleet.
/// </summary>
public sealed class VmTable(SubscriptionService subscriptions, VirtualMachineService vms, IHostStore hosts, Placement placement,
    IAttestationStatusSource attestations)
{
    public async Task<string> SubscriptionIdAsync(CancellationToken cancellationToken) =>
        (await subscriptions.EnsureDefaultAsync(cancellationToken)).SubscriptionId;

    /// <summary>The VMs <paramref name="user"/> may see (every VM when authentication is off).</summary>
    public async Task<IReadOnlyList<VmRow>> RowsAsync(PortalUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        string subscriptionId = await SubscriptionIdAsync(cancellationToken);
        Dictionary<string, bool> alive = (await hosts.ListAsync(cancellationToken)).ToDictionary(h => h.Name, placement.IsAlive, StringComparer.OrdinalIgnoreCase);
        var rows = new List<VmRow>();
        string? token = null;
        do
        {
            ArmResult<Page<VirtualMachineRecord>> page = await vms.ListAsync(subscriptionId, null, token, cancellationToken);
            foreach (VirtualMachineRecord vm in (page.Value?.Items ?? []).Where(vm => user.SeesGroup(vm.SubscriptionId, vm.ResourceGroup)))
                rows.Add(await RowAsync(vm, alive, cancellationToken));
            token = page.Value?.ContinuationToken;
        }
        while (token is not null);
        return rows;
    }

    /// <summary>The VM, or null when it does not exist or <paramref name="user"/> may not see it.</summary>
    public async Task<VmRow?> FindAsync(PortalUser user, string resourceGroup, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        string subscriptionId = await SubscriptionIdAsync(cancellationToken);
        if (!user.SeesGroup(subscriptionId, resourceGroup))
            return null;
        ArmResult<VirtualMachineRecord> found = await vms.GetAsync(new VirtualMachineKey(subscriptionId, resourceGroup, name), cancellationToken);
        if (found.Value is not VirtualMachineRecord vm)
            return null;
        Dictionary<string, bool> alive = (await hosts.ListAsync(cancellationToken)).ToDictionary(h => h.Name, placement.IsAlive, StringComparer.OrdinalIgnoreCase);
        return await RowAsync(vm, alive, cancellationToken);
    }

    /// <summary>Filters, sorts and pages <paramref name="rows"/>; the total is the filtered count.</summary>
    public static (IReadOnlyList<VmRow> Page, int Total) Apply(IReadOnlyList<VmRow> rows, VmQuery query)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(query);
        IEnumerable<VmRow> shown = rows;
        if (!string.IsNullOrWhiteSpace(query.Text))
            shown = shown.Where(r => r.Name.Contains(query.Text, StringComparison.OrdinalIgnoreCase) || r.ResourceGroup.Contains(query.Text, StringComparison.OrdinalIgnoreCase));
        if (!string.IsNullOrEmpty(query.Power))
            shown = shown.Where(r => string.Equals(r.Power.ToString(), query.Power, StringComparison.OrdinalIgnoreCase));
        if (!string.IsNullOrEmpty(query.Health))
            shown = shown.Where(r => string.Equals(Health(r), query.Health, StringComparison.OrdinalIgnoreCase));
        Func<VmRow, string> key = query.Sort switch
        {
            "group" => r => r.ResourceGroup + "/" + r.Name,
            "power" => r => r.Power.ToString(),
            "security" => r => r.SecurityType,
            "attestation" => Health,
            "host" => r => r.Host ?? "",
            _ => r => r.Name,
        };
        List<VmRow> sorted = (query.Descending ? shown.OrderByDescending(key, StringComparer.OrdinalIgnoreCase) : shown.OrderBy(key, StringComparer.OrdinalIgnoreCase))
            .ThenBy(r => r.Name, StringComparer.OrdinalIgnoreCase).ToList();
        int page = Math.Max(1, query.Page);
        return (sorted.Skip((page - 1) * VmQuery.PageSize).Take(VmQuery.PageSize).ToList(), sorted.Count);
    }

    /// <summary><c>pass</c>, <c>fail</c>, or <c>none</c> (never attested; a Standard VM).</summary>
    public static string Health(VmRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return row.Attestation?.Verdict ?? "none";
    }

    private async Task<VmRow> RowAsync(VirtualMachineRecord vm, Dictionary<string, bool> alive, CancellationToken cancellationToken)
    {
        bool? hostAlive = vm.HostName is null ? null : alive.GetValueOrDefault(vm.HostName);
        var security = vm.Model.Properties.SecurityProfile;
        return new VmRow(vm.ResourceGroup, vm.Name, vm.VmId, vm.Location, vm.Model.Properties.HardwareProfile?.VmSize ?? "",
            VirtualMachineViews.DisplayedPower(vm, hostAlive), vm.ProvisioningState, security?.SecurityType ?? VmPlanner.Standard,
            security?.UefiSettings?.SecureBootEnabled == true, VirtualMachineLifecycle.HasVTpm(vm),
            await attestations.GetLatestAsync(vm.VmId, cancellationToken), vm.HostName);
    }
}
