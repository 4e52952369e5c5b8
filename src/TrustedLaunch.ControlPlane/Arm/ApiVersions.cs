namespace TrustedLaunch.ControlPlane.Arm;

/// <summary>The resource types the control plane serves, each with its own api-version line.</summary>
public enum ArmResourceKind
{
    Subscription,
    ResourceGroup,
    VirtualMachine,
    VirtualMachineScaleSet,
    Operation,
    VirtualMachineImage,
    VirtualMachineSize,
    ResourceSku,
    Snapshot,
    Disk,
}

/// <summary>
/// Which <c>api-version</c> values each resource type accepts: every published stable version from the first that has
/// the fields served here (<c>securityProfile</c>: Compute 2020-12-01), as listed in Azure/bicep-types-az (generated
/// from azure-rest-api-specs). ARM requires the parameter on every request; a missing or unknown one is a 400 naming the
/// supported versions, newest first.
/// </summary>
public static class ApiVersions
{
    /// <summary>Microsoft.Compute (virtualMachines, operations, images, sizes, skus) stable versions since 2020-12-01.</summary>
    public static IReadOnlyList<string> Compute { get; } =
    [
        "2026-04-01", "2026-03-01", "2025-11-01", "2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-09-01",
        "2023-07-01", "2023-03-01", "2022-11-01", "2022-08-01", "2022-03-01", "2021-11-01", "2021-07-01", "2021-04-01",
        "2021-03-01", "2020-12-01",
    ];

    /// <summary>Microsoft.Resources/resourceGroups stable versions (the shape has not changed since 2015).</summary>
    public static IReadOnlyList<string> ResourceGroups { get; } =
    [
        "2025-04-01", "2025-03-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01", "2022-09-01", "2021-04-01",
        "2021-01-01", "2020-10-01", "2020-08-01", "2020-06-01", "2019-10-01", "2019-08-01", "2019-07-01", "2019-05-10",
        "2019-05-01", "2019-03-01", "2018-05-01", "2018-02-01", "2017-05-10", "2016-09-01", "2016-07-01", "2016-02-01",
        "2015-11-01",
    ];

    /// <summary>
    /// Microsoft.Compute disk-RP versions (snapshots and disks have their own line, the <c>-02</c> dates) since disks carry
    /// <c>securityProfile</c> (2020-12-01).
    /// </summary>
    public static IReadOnlyList<string> ComputeDisks { get; } =
        ["2025-01-02", "2024-03-02", "2023-10-02", "2023-04-02", "2023-01-02", "2022-07-02", "2022-03-02", "2021-12-01", "2021-08-01", "2021-04-01", "2020-12-01"];

    /// <summary>Microsoft.Resources subscriptions (GET and list) stable versions.</summary>
    public static IReadOnlyList<string> Subscriptions { get; } =
        ["2022-12-01", "2021-01-01", "2020-01-01", "2019-11-01", "2019-06-01", "2016-06-01"];

    /// <summary>The first Compute version whose VM carries <c>timeCreated</c>; older versions are answered without it.</summary>
    public const string TimeCreatedSince = "2021-11-01";

    public static IReadOnlyList<string> For(ArmResourceKind kind) => kind switch
    {
        ArmResourceKind.Subscription => Subscriptions,
        ArmResourceKind.ResourceGroup => ResourceGroups,
        ArmResourceKind.Snapshot or ArmResourceKind.Disk => ComputeDisks,
        _ => Compute,
    };

    /// <summary>The ARM type name used in messages, e.g. <c>virtualMachines</c>.</summary>
    public static string TypeName(ArmResourceKind kind) => kind switch
    {
        ArmResourceKind.Subscription => "subscriptions",
        ArmResourceKind.ResourceGroup => "resourceGroups",
        ArmResourceKind.VirtualMachine => "virtualMachines",
        ArmResourceKind.VirtualMachineScaleSet => "virtualMachineScaleSets",
        ArmResourceKind.Operation => "locations/operations",
        ArmResourceKind.VirtualMachineImage => "locations/publishers/artifacttypes/offers/skus/versions",
        ArmResourceKind.VirtualMachineSize => "locations/vmSizes",
        ArmResourceKind.ResourceSku => "skus",
        ArmResourceKind.Snapshot => "snapshots",
        ArmResourceKind.Disk => "disks",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>
    /// Null when <paramref name="apiVersion"/> is one of <paramref name="kind"/>'s versions; otherwise ARM's refusal
    /// (<c>MissingApiVersionParameter</c>, <c>InvalidApiVersionParameter</c> for Microsoft.Resources types,
    /// <c>NoRegisteredProviderFound</c> for Microsoft.Compute types).
    /// </summary>
    public static ArmFailure? Check(string? apiVersion, ArmResourceKind kind, string location, IEnumerable<string> locations)
    {
        if (string.IsNullOrEmpty(apiVersion))
            return ArmErrors.MissingApiVersion();
        IReadOnlyList<string> supported = For(kind);
        if (supported.Contains(apiVersion, StringComparer.OrdinalIgnoreCase))
            return null;
        return kind is ArmResourceKind.Subscription or ArmResourceKind.ResourceGroup
            ? ArmErrors.InvalidApiVersion(apiVersion, supported)
            : ArmErrors.NoRegisteredProviderFound(location, apiVersion, TypeName(kind), supported, locations);
    }

    /// <summary>Whether <paramref name="apiVersion"/> (a supported version) is at least <paramref name="minimum"/>.</summary>
    public static bool AtLeast(string? apiVersion, string minimum) =>
        apiVersion is not null && string.CompareOrdinal(apiVersion[..Math.Min(10, apiVersion.Length)], minimum) >= 0;
}
