namespace TrustedLaunch.ControlPlane.Arm;

/// <summary>ARM resource ids and type names as Azure spells them.</summary>
public static class ResourceIds
{
    public const string VirtualMachineType = "Microsoft.Compute/virtualMachines";
    public const string ResourceGroupType = "Microsoft.Resources/resourceGroups";
    public const string VirtualMachineScaleSetType = "Microsoft.Compute/virtualMachineScaleSets";
    public const string SnapshotType = "Microsoft.Compute/snapshots";
    public const string DiskType = "Microsoft.Compute/disks";

    public static string Subscription(string subscriptionId) => $"/subscriptions/{subscriptionId}";

    public static string ResourceGroup(string subscriptionId, string resourceGroup) => $"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}";

    public static string VirtualMachine(string subscriptionId, string resourceGroup, string name) =>
        $"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{VirtualMachineType}/{name}";

    public static string VirtualMachineScaleSet(string subscriptionId, string resourceGroup, string name) =>
        $"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{VirtualMachineScaleSetType}/{name}";

    public static string Snapshot(string subscriptionId, string resourceGroup, string name) =>
        $"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{SnapshotType}/{name}";

    public static string Disk(string subscriptionId, string resourceGroup, string name) =>
        $"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{DiskType}/{name}";

    /// <summary>The subscription, resource group and name of a <c>Microsoft.Compute/{type}/{name}</c> id (any case); false for any other id.</summary>
    public static bool TryParseCompute(string? id, string type, out (string SubscriptionId, string ResourceGroup, string Name) resource)
    {
        resource = default;
        string[] s = (id ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        bool matches = s.Length == 8 && s[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase)
            && s[2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase) && s[4].Equals("providers", StringComparison.OrdinalIgnoreCase)
            && s[5].Equals("Microsoft.Compute", StringComparison.OrdinalIgnoreCase) && s[6].Equals(type, StringComparison.OrdinalIgnoreCase);
        if (matches)
            resource = (s[1], s[3], s[7]);
        return matches;
    }

    /// <summary>
    /// The subscription, resource group and name of a scale set id (<c>/subscriptions/{s}/resourceGroups/{rg}/providers/
    /// Microsoft.Compute/virtualMachineScaleSets/{name}</c>, any case); false for any other id.
    /// </summary>
    public static bool TryParseScaleSet(string? id, out (string SubscriptionId, string ResourceGroup, string Name) scaleSet)
    {
        scaleSet = default;
        string[] s = (id ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        bool matches = s.Length == 8 && s[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase)
            && s[2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase) && s[4].Equals("providers", StringComparison.OrdinalIgnoreCase)
            && s[5].Equals("Microsoft.Compute", StringComparison.OrdinalIgnoreCase) && s[6].Equals("virtualMachineScaleSets", StringComparison.OrdinalIgnoreCase);
        if (matches)
            scaleSet = (s[1], s[3], s[7]);
        return matches;
    }

    /// <summary>The Compute operation monitor, <c>/subscriptions/{s}/providers/Microsoft.Compute/locations/{loc}/operations/{id}</c>.</summary>
    public static string Operation(string subscriptionId, string location, string operationId) =>
        $"/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/operations/{operationId}";

    /// <summary>A platform image version, as Compute spells it in <c>id</c>.</summary>
    public static string ImageVersion(string subscriptionId, string location, string publisher, string offer, string sku, string version) =>
        $"/Subscriptions/{subscriptionId}/Providers/Microsoft.Compute/Locations/{location}/Publishers/{publisher}/ArtifactTypes/VMImage/Offers/{offer}/Skus/{sku}/Versions/{version}";

    /// <summary>
    /// Whether <paramref name="id"/> names a managed image (<c>…/providers/Microsoft.Compute/images/{name}</c>) rather
    /// than a gallery image or a platform image.
    /// </summary>
    public static bool IsManagedImage(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        string[] segments = id.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i + 2 < segments.Length; i++)
        {
            if (segments[i].Equals("providers", StringComparison.OrdinalIgnoreCase)
                && segments[i + 1].Equals("Microsoft.Compute", StringComparison.OrdinalIgnoreCase)
                && segments[i + 2].Equals("images", StringComparison.OrdinalIgnoreCase))
                return true;
        }

        return false;
    }

    /// <summary>The key a name is stored and compared under: ARM names are case-insensitive (and case-preserving).</summary>
    public static string Key(string name) => name.ToUpperInvariant();

    /// <summary>A location as ARM normalises it: <c>West US</c> → <c>westus</c>.</summary>
    public static string NormalizeLocation(string location) =>
        new(location.Where(c => !char.IsWhiteSpace(c)).Select(char.ToLowerInvariant).ToArray());
}
