using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Rules;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>What an image reference names: a platform image, a managed image, another image resource (gallery), or nothing.</summary>
public enum ImageKind
{
    None,
    Platform,
    ManagedImage,
    OtherImage,
}

/// <summary>How an image reference resolved against the image catalog (or, on an update that keeps it, the VM's record).</summary>
public sealed record ImageLookup(ImageKind Kind, string? Urn, string? Id, bool? Found, HyperVGeneration? Generation, string? ExactVersion);

/// <summary>Everything a VM PUT is judged on, looked up before planning.</summary>
public sealed record VmPlanInput
{
    public required string Name { get; init; }

    /// <summary>The VM's id (new on create, kept on update); it names the OS disk.</summary>
    public required Guid VmId { get; init; }

    /// <summary>The request merged over the existing VM (members left out keep their value).</summary>
    public required VirtualMachineResource Request { get; init; }

    /// <summary>The request as sent (before the merge): what "sent" means for the facts.</summary>
    public required VirtualMachineResource Sent { get; init; }

    public VirtualMachineRecord? Previous { get; init; }

    /// <summary>The previous VM's security type (<c>TrustedLaunch</c> or <c>Standard</c>), on an update.</summary>
    public string? PreviousSecurityType { get; init; }

    public VmSize? Size { get; init; }

    public required ImageLookup Image { get; init; }

    /// <summary>Whether the named reference policy exists (null when none is named).</summary>
    public bool? PolicyFound { get; init; }
}

/// <summary>The decision on a VM PUT: the model to store, or every reason it is refused.</summary>
public sealed record VmPlan
{
    public required VirtualMachineModel Model { get; init; }

    public required IReadOnlyList<ArmErrorDetail> RequestErrors { get; init; }

    public required IReadOnlyList<RuleViolation> Violations { get; init; }

    public required string SecurityType { get; init; }

    public required ImageLookup Image { get; init; }

    public bool Accepted => RequestErrors.Count == 0 && Violations.Count == 0;

    public ArmFailure ToFailure()
    {
        IReadOnlyList<ArmErrorDetail> all = [.. RequestErrors, .. Violations.Select(v => v.Error)];
        int status = RequestErrors.Count > 0 || Violations.Any(v => v.Rule.Status == ArmErrors.BadRequest)
            ? ArmErrors.BadRequest
            : Violations[0].Rule.Status;
        return ArmFailure.FromViolations(status, all);
    }
}

/// <summary>
/// Judges a VM PUT: the request checks (required members, values), the security defaults, the facts and the rules
/// table, and builds the model that is stored. No I/O: the look-ups happen before (<see cref="VmPlanInput"/>).
/// </summary>
public static class VmPlanner
{
    public const string TrustedLaunch = "TrustedLaunch";
    public const string Standard = "Standard";
    public const string ConfidentialVM = "ConfidentialVM";
    public const string MicrosoftTemplate = "microsoft";
    public const string Microsoft2023Template = "microsoft-2023";
    public const string Microsoft2011Template = "microsoft-2011";
    public const string CustomTemplate = "custom";

    /// <summary>
    /// The Secure Boot templates a VM may name: Microsoft's 2011 and 2023 CAs together (the default), only the 2023 ones,
    /// only the 2011 ones, or only its own keys. The names are the variable-store library's (TrustedLaunch.Uefi.VariableStore
    /// SecureBootTemplates); this assembly references the BCL only, so a server test keeps the two lists equal.
    /// </summary>
    public static IReadOnlyList<string> Templates { get; } = [MicrosoftTemplate, Microsoft2023Template, Microsoft2011Template, CustomTemplate];
    public const int DefaultAttestationIntervalSeconds = 60;

    public static VmPlan Plan(VmPlanInput input, RuleTable rules)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(rules);
        Decision decision = Decide(input);
        return new VmPlan
        {
            Model = Model(input, decision.Properties, decision.SecurityType, decision.SecureBoot, decision.VTpm, decision.Extensions),
            RequestErrors = VmRequestChecks.Check(input.Name, input.Request),
            Violations = RuleEngine.Evaluate(rules, decision.Facts),
            SecurityType = decision.SecurityType,
            Image = input.Image,
        };
    }

    /// <summary>The facts the rules table sees for <paramref name="input"/>.</summary>
    internal static VmFacts FactsFor(VmPlanInput input) => Decide(input).Facts;

    private sealed record Decision(VirtualMachineProperties Properties, string SecurityType, bool SecureBoot, bool VTpm,
        TrustedLaunchExtensions Extensions, VmFacts Facts);

    private static Decision Decide(VmPlanInput input)
    {
        VirtualMachineProperties properties = input.Request.Properties ?? new VirtualMachineProperties();
        UefiSettings? sentUefi = input.Sent.Properties?.SecurityProfile?.UefiSettings;
        string? sentType = Canonical(input.Sent.Properties?.SecurityProfile?.SecurityType);
        TrustedLaunchExtensions sentExtensions = input.Sent.Properties?.TrustedLaunchExtensions ?? new TrustedLaunchExtensions();

        string securityType = DecideSecurityType(input, properties, sentType, sentUefi);
        UefiSettings? previousUefi = input.Previous?.Model.Properties.SecurityProfile?.UefiSettings;
        // Azure's upgrade of an existing VM to Trusted Launch defaults to Secure Boot off and vTPM on (the guest's boot chain
        // was never checked by firmware); a new VM defaults to both on.
        bool upgrading = input.PreviousSecurityType is not null and not TrustedLaunch && securityType == TrustedLaunch;
        bool secureBoot = sentUefi?.SecureBootEnabled ?? previousUefi?.SecureBootEnabled ?? !upgrading;
        bool vTpm = sentUefi?.VTpmEnabled ?? previousUefi?.VTpmEnabled ?? true;
        TrustedLaunchExtensions extensions = EffectiveExtensions(properties.TrustedLaunchExtensions, securityType == TrustedLaunch);
        VmFacts facts = Facts(input, properties, sentType, sentUefi, sentExtensions, securityType, secureBoot, vTpm, extensions);
        return new Decision(properties, securityType, secureBoot, vTpm, extensions, facts);
    }

    /// <summary>TrustedLaunch, Standard or ConfidentialVM in their canonical case; any other value as sent; null when absent.</summary>
    public static string? Canonical(string? securityType) =>
        securityType is null ? null
        : securityType.Equals(TrustedLaunch, StringComparison.OrdinalIgnoreCase) ? TrustedLaunch
        : securityType.Equals(Standard, StringComparison.OrdinalIgnoreCase) ? Standard
        : securityType.Equals(ConfidentialVM, StringComparison.OrdinalIgnoreCase) ? ConfidentialVM
        : securityType;

    /// <summary>
    /// Azure's current defaulting (TrustedLaunchByDefault, api 2021-11-01 and later): a VM that names no security type
    /// is Trusted Launch when its image, size and features allow it, and a Standard VM otherwise, still a success. An
    /// update keeps the type the VM was created with unless the request names one.
    /// </summary>
    private static string DecideSecurityType(VmPlanInput input, VirtualMachineProperties properties, string? sentType, UefiSettings? sentUefi)
    {
        if (sentType is not null)
            return sentType;
        if (input.PreviousSecurityType is not null)
            return input.PreviousSecurityType;
        // uefiSettings without a type: Azure leaves them inert; we refuse true values (rules) and store false ones as Standard.
        if (sentUefi?.SecureBootEnabled is not null || sentUefi?.VTpmEnabled is not null)
            return Standard;
        bool compatible = input.Image is { Kind: ImageKind.Platform, Found: true, Generation: HyperVGeneration.V2 }
            && input.Size is { TrustedLaunch: true }
            && properties.StorageProfile?.OsDisk?.DiffDiskSettings is null
            && SharedDisks(properties).Count == 0
            && UltraDisks(properties).Count == 0
            && DedicatedHosts(properties).Count == 0
            && properties.TrustedLaunchExtensions?.NestedVirtualizationEnabled != true;
        return compatible ? TrustedLaunch : Standard;
    }

    private static TrustedLaunchExtensions EffectiveExtensions(TrustedLaunchExtensions? merged, bool trustedLaunch)
    {
        bool nested = merged?.NestedVirtualizationEnabled ?? false;
        if (!trustedLaunch)
            return new TrustedLaunchExtensions { NestedVirtualizationEnabled = nested };
        string template = merged?.SecureBootTemplate is string t && IsTemplate(t) ? t.ToLowerInvariant() : merged?.SecureBootTemplate ?? MicrosoftTemplate;
        return new TrustedLaunchExtensions
        {
            SecureBootTemplate = template,
            SecureBootKeys = merged?.SecureBootKeys,
            AttestationIntervalSeconds = merged?.AttestationIntervalSeconds ?? DefaultAttestationIntervalSeconds,
            ReferencePolicy = merged?.ReferencePolicy,
            NestedVirtualizationEnabled = nested,
        };
    }

    private static bool IsTemplate(string template) => Templates.Contains(template, StringComparer.OrdinalIgnoreCase);

    private static VmFacts Facts(VmPlanInput input, VirtualMachineProperties properties, string? sentType, UefiSettings? sentUefi,
        TrustedLaunchExtensions sent, string securityType, bool secureBoot, bool vTpm, TrustedLaunchExtensions extensions)
    {
        VirtualMachineRecord? previous = input.Previous;
        VirtualMachineProperties? before = previous?.Model.Properties;
        TrustedLaunchExtensions? merged = properties.TrustedLaunchExtensions;
        string? template = merged?.SecureBootTemplate;
        int? interval = merged?.AttestationIntervalSeconds;
        bool previousTrustedLaunch = input.PreviousSecurityType == TrustedLaunch;
        var facts = new VmFacts()
            .Set("operation", previous is null ? "create" : "update")
            .Set("request.securityType", sentType)
            .Set("request.securityType.valid", sentType is null or TrustedLaunch or Standard or ConfidentialVM)
            .Set("request.secureBootEnabled", sentUefi?.SecureBootEnabled)
            .Set("request.vTpmEnabled", sentUefi?.VTpmEnabled)
            .Set("securityType", securityType)
            .Set("size.name", properties.HardwareProfile?.VmSize)
            .Set("size.found", properties.HardwareProfile?.VmSize is null ? null : input.Size is not null)
            .Set("size.trustedLaunch", input.Size?.TrustedLaunch)
            .Set("image.kind", input.Image.Kind switch
            {
                ImageKind.Platform => "platform",
                ImageKind.ManagedImage => "managedImage",
                ImageKind.OtherImage => "otherImage",
                _ => "none",
            })
            .Set("image.urn", input.Image.Urn)
            .Set("image.id", input.Image.Id)
            .Set("image.found", input.Image.Found)
            .Set("image.trustedLaunchSupported", input.Image.Generation is HyperVGeneration generation ? generation == HyperVGeneration.V2 : null)
            .Set("osDisk.ephemeral", properties.StorageProfile?.OsDisk?.DiffDiskSettings is not null)
            .Set("nestedVirtualization", merged?.NestedVirtualizationEnabled == true)
            .Set("extensions.secureBootTemplate", template)
            .Set("extensions.secureBootTemplate.valid", template is null || IsTemplate(template))
            .Set("extensions.customWithoutDb", template is not null && template.Equals(CustomTemplate, StringComparison.OrdinalIgnoreCase)
                && (merged?.SecureBootKeys?.Db?.Count ?? 0) == 0)
            .Set("extensions.attestationIntervalSeconds", interval)
            .Set("extensions.attestationIntervalSeconds.valid", interval is null or (>= 10 and <= 86_400))
            .Set("extensions.referencePolicy", merged?.ReferencePolicy)
            .Set("extensions.referencePolicy.found", input.PolicyFound)
            .Set("extensions.trustedLaunchSettingsSent", sent.SecureBootTemplate is not null || sent.SecureBootKeys is not null
                || sent.AttestationIntervalSeconds is not null || sent.ReferencePolicy is not null)
            .Set("previous.securityType", input.PreviousSecurityType)
            .Set("change.securityType", previous is not null && sentType is not null && sentType != input.PreviousSecurityType)
            .Set("change.uefiSettings", previous is not null && previousTrustedLaunch && securityType == TrustedLaunch
                && (secureBoot != (before?.SecurityProfile?.UefiSettings?.SecureBootEnabled ?? false)
                    || vTpm != (before?.SecurityProfile?.UefiSettings?.VTpmEnabled ?? false)))
            .Set("change.imageReference", previous is not null && !SameImage(properties.StorageProfile?.ImageReference, before?.StorageProfile?.ImageReference))
            .Set("change.vmSize", previous is not null && !string.Equals(properties.HardwareProfile?.VmSize, before?.HardwareProfile?.VmSize, StringComparison.OrdinalIgnoreCase))
            .Set("change.secureBootKeys", previous is not null && previousTrustedLaunch && securityType == TrustedLaunch
                && (!string.Equals(extensions.SecureBootTemplate, before?.TrustedLaunchExtensions?.SecureBootTemplate, StringComparison.OrdinalIgnoreCase)
                    || !SameKeys(extensions.SecureBootKeys, before?.TrustedLaunchExtensions?.SecureBootKeys)))
            .Set("previous.deallocated", previous is null ? null
                : previous.DesiredPower == DesiredPowerState.Deallocated && (previous.HostName is null || previous.ActualPower == PowerState.Deallocated))
            .SetList("sharedDisks", SharedDisks(properties))
            .SetList("ultraDisks", UltraDisks(properties))
            .SetList("dedicatedHost", DedicatedHosts(properties))
            .SetList("invalidSecureBootKeys", SecureBootKeyCheck.Problems(merged?.SecureBootKeys));
        return facts;
    }

    private static List<FactLocation> SharedDisks(VirtualMachineProperties properties)
    {
        var shared = new List<FactLocation>();
        IReadOnlyList<DataDisk> disks = properties.StorageProfile?.DataDisks ?? [];
        for (int i = 0; i < disks.Count; i++)
        {
            if (disks[i]?.MaxShares is > 1)
                shared.Add(new FactLocation($"properties.storageProfile.dataDisks[{i}].maxShares", disks[i].MaxShares!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        return shared;
    }

    private const string Ultra = "UltraSSD_LRS";

    private static List<FactLocation> UltraDisks(VirtualMachineProperties properties)
    {
        var ultra = new List<FactLocation>();
        if (Ultra.Equals(properties.StorageProfile?.OsDisk?.ManagedDisk?.StorageAccountType, StringComparison.OrdinalIgnoreCase))
            ultra.Add(new FactLocation("properties.storageProfile.osDisk.managedDisk.storageAccountType", Ultra));
        IReadOnlyList<DataDisk> disks = properties.StorageProfile?.DataDisks ?? [];
        for (int i = 0; i < disks.Count; i++)
        {
            if (Ultra.Equals(disks[i]?.ManagedDisk?.StorageAccountType, StringComparison.OrdinalIgnoreCase))
                ultra.Add(new FactLocation($"properties.storageProfile.dataDisks[{i}].managedDisk.storageAccountType", Ultra));
        }

        if (properties.AdditionalCapabilities?.UltraSSDEnabled == true)
            ultra.Add(new FactLocation("properties.additionalCapabilities.ultraSSDEnabled", "ultraSSDEnabled"));
        return ultra;
    }

    private static List<FactLocation> DedicatedHosts(VirtualMachineProperties properties)
    {
        var hosts = new List<FactLocation>();
        if (properties.Host is not null)
            hosts.Add(new FactLocation("properties.host.id", properties.Host.Id ?? "host"));
        if (properties.HostGroup is not null)
            hosts.Add(new FactLocation("properties.hostGroup.id", properties.HostGroup.Id ?? "hostGroup"));
        return hosts;
    }

    private static bool SameImage(ImageReference? now, ImageReference? before)
    {
        if (now is null || before is null)
            return now is null && before is null;
        static bool Same(string? a, string? b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
        bool sameVersion = Same(now.Version, before.Version) || Same(now.Version, before.ExactVersion);
        return Same(now.Id, before.Id) && Same(now.Publisher, before.Publisher) && Same(now.Offer, before.Offer) && Same(now.Sku, before.Sku) && sameVersion;
    }

    private static bool SameKeys(SecureBootKeys? a, SecureBootKeys? b)
    {
        static bool SameList(IReadOnlyList<string>? x, IReadOnlyList<string>? y) => (x ?? []).SequenceEqual(y ?? [], StringComparer.Ordinal);
        return a?.PlatformKey == b?.PlatformKey && SameList(a?.Kek, b?.Kek) && SameList(a?.Db, b?.Db) && SameList(a?.Dbx, b?.Dbx);
    }

    private static VirtualMachineModel Model(VmPlanInput input, VirtualMachineProperties properties, string securityType, bool secureBoot, bool vTpm,
        TrustedLaunchExtensions extensions)
    {
        StorageProfile storage = properties.StorageProfile ?? new StorageProfile();
        ImageReference? image = storage.ImageReference is { } reference
            ? reference with { ExactVersion = input.Image.ExactVersion }
            : null;
        OSDisk osDisk = storage.OsDisk ?? new OSDisk();
        osDisk = osDisk with
        {
            Name = osDisk.Name ?? $"{input.Name}_OsDisk_1_{input.VmId:N}",
            CreateOption = osDisk.CreateOption ?? "FromImage",
            Caching = osDisk.Caching ?? "ReadWrite",
            DeleteOption = osDisk.DeleteOption ?? "Detach",
        };
        bool encryptionAtHost = properties.SecurityProfile?.EncryptionAtHost ?? false;
        SecurityProfile? security = securityType == TrustedLaunch
            ? new SecurityProfile
            {
                SecurityType = TrustedLaunch,
                UefiSettings = new UefiSettings { SecureBootEnabled = secureBoot, VTpmEnabled = vTpm },
                EncryptionAtHost = properties.SecurityProfile?.EncryptionAtHost,
            }
            : encryptionAtHost ? new SecurityProfile { EncryptionAtHost = true } : null;
        return new VirtualMachineModel
        {
            Tags = input.Request.Tags,
            Properties = new VirtualMachineProperties
            {
                HardwareProfile = new HardwareProfile { VmSize = input.Size?.Name ?? properties.HardwareProfile?.VmSize },
                StorageProfile = new StorageProfile { ImageReference = image, OsDisk = osDisk, DataDisks = storage.DataDisks },
                SecurityProfile = security,
                AdditionalCapabilities = properties.AdditionalCapabilities,
                Host = properties.Host,
                HostGroup = properties.HostGroup,
                OSProfile = new OSProfile
                {
                    ComputerName = properties.OSProfile?.ComputerName ?? input.Name,
                    AdminUsername = properties.OSProfile?.AdminUsername,
                },
                NetworkProfile = Network.VmNetworkCheck.WithDefaults(properties.NetworkProfile),
                TrustedLaunchExtensions = extensions,
                VirtualMachineScaleSet = input.Previous?.Model.Properties.VirtualMachineScaleSet ?? properties.VirtualMachineScaleSet,
                PlatformFaultDomain = input.Previous is null ? properties.PlatformFaultDomain : input.Previous.Model.Properties.PlatformFaultDomain,
            },
        };
    }
}
