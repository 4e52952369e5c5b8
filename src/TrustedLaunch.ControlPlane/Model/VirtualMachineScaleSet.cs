using System.Text.Json.Serialization;

namespace TrustedLaunch.ControlPlane.Model;

// Microsoft.Compute/virtualMachineScaleSets as Azure's REST API spells it (azure-rest-api-specs, ComputeRP
// virtualMachineScaleSet.json), for flexible orchestration: each instance is a full Microsoft.Compute/virtualMachines
// resource. Members Azure has and this platform does not serve (extensionProfile, upgradePolicy, …)
// are accepted and not echoed.

/// <summary>A scale set as PUT, PATCH and GET carry it.</summary>
public sealed record VirtualMachineScaleSetResource
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public string? Type { get; init; }

    public string? Location { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Read-only: the quoted version also sent as the <c>ETag</c> header.</summary>
    public string? Etag { get; init; }

    /// <summary><c>name</c> is the instances' VM size; <c>capacity</c> how many instances the scale set keeps.</summary>
    public ScaleSetSku? Sku { get; init; }

    public VirtualMachineScaleSetProperties? Properties { get; init; }
}

public sealed record ScaleSetSku
{
    public string? Name { get; init; }

    public string? Tier { get; init; }

    public long? Capacity { get; init; }
}

public sealed record VirtualMachineScaleSetProperties
{
    /// <summary>Flexible (the only mode served) or Uniform (refused).</summary>
    public string? OrchestrationMode { get; init; }

    /// <summary>1 (max spreading) to 3.</summary>
    public int? PlatformFaultDomainCount { get; init; }

    public bool? SinglePlacementGroup { get; init; }

    /// <summary>The model every instance is made from (its <c>securityProfile</c> included).</summary>
    public VirtualMachineScaleSetVMProfile? VirtualMachineProfile { get; init; }

    /// <summary>Read-only: Creating, Updating, Succeeded, Failed, Deleting.</summary>
    public string? ProvisioningState { get; init; }

    /// <summary>Read-only: the scale set's unique id.</summary>
    public string? UniqueId { get; init; }

    /// <summary>Read-only (api-version 2021-11-01 and later).</summary>
    public DateTimeOffset? TimeCreated { get; init; }
}

/// <summary>The VM model of a scale set: a VM's profiles without its size (the scale set's <c>sku.name</c>).</summary>
public sealed record VirtualMachineScaleSetVMProfile
{
    [JsonPropertyName("osProfile")]
    public ScaleSetOSProfile? OSProfile { get; init; }

    public StorageProfile? StorageProfile { get; init; }

    public SecurityProfile? SecurityProfile { get; init; }

    /// <summary>The NICs each instance gets (<see cref="ScaleSetNetworkProfile"/>).</summary>
    public ScaleSetNetworkProfile? NetworkProfile { get; init; }

    /// <summary>This platform's settings that Azure's schema has no field for, applied to every instance.</summary>
    public TrustedLaunchExtensions? TrustedLaunchExtensions { get; init; }
}

/// <summary>Only the computer-name prefix and the admin user are kept; passwords and custom data are never stored or echoed.</summary>
public sealed record ScaleSetOSProfile
{
    public string? ComputerNamePrefix { get; init; }

    public string? AdminUsername { get; init; }
}
