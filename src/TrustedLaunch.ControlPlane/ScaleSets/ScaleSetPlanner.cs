using System.Globalization;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.ScaleSets;

/// <summary>
/// The pure half of a scale set write: the scale set's own checks (flexible orchestration only, sku, fault domains, what
/// an update may not change), the merge of a PATCH, the VM an instance is made from, the targets of the model's rule
/// violations, and which instances a scale-in removes. No I/O.
/// </summary>
public static class ScaleSetPlanner
{
    public const string Flexible = "Flexible";
    public const string Uniform = "Uniform";

    /// <summary>Azure's limit for a flexible scale set.</summary>
    public const long MaxCapacity = 1000;

    /// <summary>An instance is <c>{scaleSet}_{8 hex}</c>, which must fit the VM name limit.</summary>
    public const int NameMaxLength = ArmNames.VirtualMachineMaxLength - 9;

    public static ArmFailure? CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (ArmNames.CheckVirtualMachine(name) is ArmFailure bad)
            return bad with { Error = bad.Error with { Message = bad.Error.Message.Replace("virtual machine", "virtual machine scale set", StringComparison.Ordinal) } };
        return name.Length > NameMaxLength
            ? ArmErrors.InvalidParameter(
                $"The virtual machine scale set name '{name}' is too long: it must have at most {NameMaxLength} characters, so that its instances' names ('{name}_' and 8 characters) have at most {ArmNames.VirtualMachineMaxLength}.", "name")
            : null;
    }

    /// <summary>Every reason the (merged) request cannot be accepted, before the VM model's own rules.</summary>
    public static IReadOnlyList<ArmErrorDetail> Check(VirtualMachineScaleSetResource request, VirtualMachineScaleSetRecord? previous)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new List<ArmErrorDetail>();
        void Add(string code, string message, string target) => errors.Add(new ArmErrorDetail { Code = code, Message = message, Target = target });
        VirtualMachineScaleSetProperties? properties = request.Properties;
        string? mode = properties?.OrchestrationMode;
        if (mode is not null && mode.Equals(Uniform, StringComparison.OrdinalIgnoreCase))
        {
            Add("OrchestrationModeNotSupported",
                "Orchestration mode 'Uniform' is not offered on this platform: scale sets use 'Flexible' orchestration, where every instance is a full " +
                "virtual machine with its own VM guest state, vTPM and endorsement key. Set properties.orchestrationMode to 'Flexible'.",
                "properties.orchestrationMode");
        }
        else if (mode is not null && !mode.Equals(Flexible, StringComparison.OrdinalIgnoreCase))
        {
            Add("InvalidParameter", $"The value '{mode}' of properties.orchestrationMode is not valid: use 'Flexible'.", "properties.orchestrationMode");
        }

        if (request.Sku?.Name is null)
            Add("InvalidParameter", "Required parameter 'sku.name' (the instances' VM size) is missing (null).", "sku.name");
        if (request.Sku?.Capacity is not long capacity)
            Add("InvalidParameter", "Required parameter 'sku.capacity' (the number of instances) is missing (null).", "sku.capacity");
        else if (capacity is < 0 or > MaxCapacity)
            Add("InvalidParameter", $"The value {capacity.ToString(CultureInfo.InvariantCulture)} of sku.capacity is not valid: it must be 0 to {MaxCapacity.ToString(CultureInfo.InvariantCulture)}.", "sku.capacity");
        if (properties?.PlatformFaultDomainCount is int domains && domains is < 1 or > 3)
            Add("InvalidParameter", $"The value {domains.ToString(CultureInfo.InvariantCulture)} of platformFaultDomainCount is not valid: use 1 (max spreading), 2 or 3.", "properties.platformFaultDomainCount");
        if (properties?.VirtualMachineProfile is null)
            Add("InvalidParameter", "Required parameter 'virtualMachineProfile' is missing (null): a flexible scale set here makes its instances from it.", "properties.virtualMachineProfile");
        else if (properties.VirtualMachineProfile.StorageProfile?.OsDisk?.Name is not null)
            Add("InvalidParameter", "osDisk.name cannot be set in a scale set's model: each instance gets its own OS disk, named after it.", "properties.virtualMachineProfile.storageProfile.osDisk.name");
        if (properties?.VirtualMachineProfile?.NetworkProfile is ScaleSetNetworkProfile network)
            errors.AddRange(ScaleSetNetworkRules.Check(network));

        if (previous is not null)
        {
            VirtualMachineScaleSetProperties before = previous.Model.Properties!;
            if (properties?.PlatformFaultDomainCount is int now && now != before.PlatformFaultDomainCount)
                Add("PropertyChangeNotAllowed", "Changing property 'platformFaultDomainCount' is not allowed.", "properties.platformFaultDomainCount");
        }

        return errors;
    }

    /// <summary>A PATCH (or PUT of an existing scale set) over the stored one: members left out keep their value.</summary>
    public static VirtualMachineScaleSetResource Merge(VirtualMachineScaleSetRecord previous, VirtualMachineScaleSetResource sent)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(sent);
        VirtualMachineScaleSetResource before = previous.Model;
        VirtualMachineScaleSetProperties p = before.Properties!;
        VirtualMachineScaleSetProperties? n = sent.Properties;
        VirtualMachineScaleSetVMProfile? profileBefore = p.VirtualMachineProfile;
        VirtualMachineScaleSetVMProfile? profileNow = n?.VirtualMachineProfile;
        return new VirtualMachineScaleSetResource
        {
            Location = sent.Location ?? previous.Location,
            Tags = sent.Tags ?? before.Tags,
            Sku = new ScaleSetSku
            {
                Name = sent.Sku?.Name ?? before.Sku?.Name,
                Tier = sent.Sku?.Tier ?? before.Sku?.Tier,
                Capacity = sent.Sku?.Capacity ?? before.Sku?.Capacity,
            },
            Properties = new VirtualMachineScaleSetProperties
            {
                OrchestrationMode = n?.OrchestrationMode ?? p.OrchestrationMode,
                PlatformFaultDomainCount = n?.PlatformFaultDomainCount ?? p.PlatformFaultDomainCount,
                SinglePlacementGroup = n?.SinglePlacementGroup ?? p.SinglePlacementGroup,
                VirtualMachineProfile = profileNow is null ? profileBefore : new VirtualMachineScaleSetVMProfile
                {
                    OSProfile = profileNow.OSProfile ?? profileBefore?.OSProfile,
                    StorageProfile = profileNow.StorageProfile ?? profileBefore?.StorageProfile,
                    SecurityProfile = profileNow.SecurityProfile ?? profileBefore?.SecurityProfile,
                    NetworkProfile = profileNow.NetworkProfile ?? profileBefore?.NetworkProfile,
                    TrustedLaunchExtensions = profileNow.TrustedLaunchExtensions ?? profileBefore?.TrustedLaunchExtensions,
                },
            },
        };
    }

    /// <summary>
    /// The VM an instance is made from: the model's profiles, the scale set's size, its own name and OS disk, and the
    /// references to the NICs made for it (<paramref name="nics"/>, from the model's network interface configurations).
    /// </summary>
    public static VirtualMachineResource InstanceModel(VirtualMachineScaleSetResource model, string location, string scaleSetName, string suffix,
        NetworkProfile? nics = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        VirtualMachineScaleSetVMProfile profile = model.Properties?.VirtualMachineProfile ?? new VirtualMachineScaleSetVMProfile();
        StorageProfile storage = profile.StorageProfile ?? new StorageProfile();
        // Flexible instances' OS disks go with them by default (Azure's deleteOption default for scale sets), VMGS included.
        OSDisk osDisk = (storage.OsDisk ?? new OSDisk()) with { Name = null, DeleteOption = storage.OsDisk?.DeleteOption ?? "Delete" };
        string prefix = profile.OSProfile?.ComputerNamePrefix ?? new string([.. scaleSetName.Where(char.IsAsciiLetterOrDigit)]);
        return new VirtualMachineResource
        {
            Location = location,
            Tags = model.Tags,
            Properties = new VirtualMachineProperties
            {
                HardwareProfile = new HardwareProfile { VmSize = model.Sku?.Name },
                StorageProfile = storage with { OsDisk = osDisk },
                SecurityProfile = profile.SecurityProfile,
                OSProfile = new OSProfile { ComputerName = prefix + suffix, AdminUsername = profile.OSProfile?.AdminUsername },
                NetworkProfile = nics,
                TrustedLaunchExtensions = profile.TrustedLaunchExtensions,
            },
        };
    }

    /// <summary>The stored model: the request with the VM model's effective security profile and extensions (defaults applied once).</summary>
    public static VirtualMachineScaleSetResource Accepted(VirtualMachineScaleSetResource request, VirtualMachineModel planned)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(planned);
        VirtualMachineScaleSetProperties properties = request.Properties!;
        VirtualMachineScaleSetVMProfile profile = properties.VirtualMachineProfile!;
        return new VirtualMachineScaleSetResource
        {
            Tags = request.Tags,
            Sku = request.Sku,
            Properties = new VirtualMachineScaleSetProperties
            {
                OrchestrationMode = Flexible,
                PlatformFaultDomainCount = properties.PlatformFaultDomainCount ?? 1,
                SinglePlacementGroup = properties.SinglePlacementGroup,
                VirtualMachineProfile = profile with
                {
                    StorageProfile = profile.StorageProfile is { } storage
                        ? storage with { ImageReference = storage.ImageReference is { } image ? image with { ExactVersion = null } : null }
                        : null,
                    SecurityProfile = planned.Properties.SecurityProfile,
                    NetworkProfile = ScaleSetNetworkRules.WithDefaults(profile.NetworkProfile),
                    TrustedLaunchExtensions = planned.Properties.TrustedLaunchExtensions,
                },
            },
        };
    }

    /// <summary>A model rule's violation, its target moved to where the scale set carries the member.</summary>
    public static ArmFailure ForScaleSet(ArmFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        static ArmErrorDetail Move(ArmErrorDetail d) => d with { Target = Target(d.Target), Details = d.Details?.Select(Move).ToArray() };
        return failure with { Error = Move(failure.Error) };
    }

    internal static string? Target(string? target) => target switch
    {
        null => null,
        "properties.hardwareProfile.vmSize" => "sku.name",
        _ when target.StartsWith("properties.osProfile.computerName", StringComparison.Ordinal) => "properties.virtualMachineProfile.osProfile.computerNamePrefix",
        _ when target.StartsWith("properties.", StringComparison.Ordinal) => "properties.virtualMachineProfile." + target["properties.".Length..],
        _ => target,
    };

    /// <summary>The instances a scale-in to <paramref name="capacity"/> removes: the newest first (Azure's NewestVM scale-in policy).</summary>
    public static IReadOnlyList<VirtualMachineRecord> ScaleInVictims(IReadOnlyList<VirtualMachineRecord> instances, long capacity)
    {
        ArgumentNullException.ThrowIfNull(instances);
        long excess = instances.Count - capacity;
        return excess <= 0
            ? []
            : [.. instances.OrderByDescending(i => i.TimeCreated).ThenByDescending(i => i.Name, StringComparer.OrdinalIgnoreCase).Take((int)excess)];
    }
}
