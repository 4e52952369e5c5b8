namespace TrustedLaunch.ControlPlane.Model;

/// <summary>ARM's list shape: <c>{"value": [...], "nextLink": "…"}</c>; <see cref="NextLink"/> is absent on the last page.</summary>
public sealed record ArmList<T>
{
    public required IReadOnlyList<T> Value { get; init; }

    public string? NextLink { get; init; }
}

/// <summary>A subscription as <c>GET /subscriptions/{id}</c> answers (Microsoft.Resources).</summary>
public sealed record SubscriptionResource
{
    public required string Id { get; init; }

    public required string SubscriptionId { get; init; }

    public required string DisplayName { get; init; }

    /// <summary>Enabled.</summary>
    public required string State { get; init; }

    public required SubscriptionPolicies SubscriptionPolicies { get; init; }

    public string AuthorizationSource { get; init; } = "RoleBased";
}

public sealed record SubscriptionPolicies
{
    public required string LocationPlacementId { get; init; }

    public required string QuotaId { get; init; }

    public string SpendingLimit { get; init; } = "Off";
}

/// <summary>A resource group (Microsoft.Resources/resourceGroups) as PUT takes and GET answers it.</summary>
public sealed record ResourceGroupResource
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public string? Type { get; init; }

    public string? Location { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    public string? ManagedBy { get; init; }

    public ResourceGroupProperties? Properties { get; init; }
}

public sealed record ResourceGroupProperties
{
    /// <summary>Succeeded or Deleting.</summary>
    public string? ProvisioningState { get; init; }
}

/// <summary>
/// A Compute operation as its <c>Azure-AsyncOperation</c> URL answers (always 200): <c>status</c> InProgress, Succeeded,
/// Failed or Canceled; <c>error</c> when it failed or was cancelled.
/// </summary>
public sealed record OperationStatusResource
{
    public required string Name { get; init; }

    public required string Status { get; init; }

    public required DateTimeOffset StartTime { get; init; }

    public DateTimeOffset? EndTime { get; init; }

    public Arm.ArmErrorDetail? Error { get; init; }
}

/// <summary><c>GET …/virtualMachines/{vm}/instanceView</c> (a subset of Azure's VirtualMachineInstanceView).</summary>
public sealed record VirtualMachineInstanceView
{
    public string? ComputerName { get; init; }

    /// <summary>V1 or V2, from the image.</summary>
    public string? HyperVGeneration { get; init; }

    /// <summary>The fault domain of a scale set's instance (on this platform, a fault domain is a host of its own).</summary>
    public int? PlatformFaultDomain { get; init; }

    public required IReadOnlyList<InstanceViewStatus> Statuses { get; init; }

    /// <summary>Ours: the VM's latest Secure Boot key update (<c>POST …/x-tl-updateSecureBootKeys</c>), pending or done, and what it changed.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("x-tl-secureBootKeyUpdate")]
    public SecureBootKeyUpdateRecord? SecureBootKeyUpdate { get; init; }
}

/// <summary>
/// One status: <c>ProvisioningState/succeeded</c>, <c>PowerState/running</c> as Azure; this platform adds
/// <c>BootVerdict/…</c> (what the console said about the last boot) and <c>GuestAttestation/pass|fail</c> (the latest
/// attestation result).
/// </summary>
public sealed record InstanceViewStatus
{
    public required string Code { get; init; }

    /// <summary>Info, Warning or Error.</summary>
    public required string Level { get; init; }

    public required string DisplayStatus { get; init; }

    public string? Message { get; init; }

    public DateTimeOffset? Time { get; init; }
}

/// <summary>An entry of <c>GET …/locations/{loc}/vmSizes</c>, as Azure lists sizes.</summary>
public sealed record VirtualMachineSizeResource
{
    public required string Name { get; init; }

    public required int NumberOfCores { get; init; }

    public required int MemoryInMB { get; init; }

    public int MaxDataDiskCount { get; init; } = 16;
}

/// <summary>An entry of <c>GET /subscriptions/{s}/providers/Microsoft.Compute/skus</c> (what az CLI and CAPZ read capabilities from).</summary>
public sealed record ResourceSkuResource
{
    public string ResourceType { get; init; } = "virtualMachines";

    public required string Name { get; init; }

    public string Tier { get; init; } = "Standard";

    public required string Size { get; init; }

    public required string Family { get; init; }

    public required IReadOnlyList<string> Locations { get; init; }

    public required IReadOnlyList<ResourceSkuCapability> Capabilities { get; init; }
}

public sealed record ResourceSkuCapability(string Name, string Value);

/// <summary>An entry of the image version list (<c>…/skus/{sku}/versions</c>): Azure answers a bare JSON array of these.</summary>
public sealed record VirtualMachineImageResource
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Location { get; init; }
}

/// <summary>One image version (<c>GET …/versions/{version}</c>).</summary>
public sealed record VirtualMachineImage
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Location { get; init; }

    public required VirtualMachineImageProperties Properties { get; init; }
}

public sealed record VirtualMachineImageProperties
{
    /// <summary>V1 (BIOS boot from an MBR disk) or V2 (UEFI from a GPT disk with an EFI System Partition), detected from the disk.</summary>
    public required string HyperVGeneration { get; init; }

    public string Architecture { get; init; } = "x64";

    public required OSDiskImage OsDiskImage { get; init; }

    /// <summary><c>SecurityType</c>: <c>TrustedLaunchSupported</c> for V2 images (as Azure's gallery images say it).</summary>
    public required IReadOnlyList<ImageFeature> Features { get; init; }

    /// <summary>This platform's finding, absent from Azure: does the boot chain pass Secure Boot with the Microsoft keys.</summary>
    public required ImageSecureBootCheck SecureBootCheck { get; init; }
}

public sealed record OSDiskImage
{
    public string OperatingSystem { get; init; } = "Linux";
}

public sealed record ImageFeature(string Name, string Value);

/// <summary>
/// Whether the firmware, holding the Microsoft template's db/dbx, would start the image's boot loader
/// (<c>\EFI\BOOT\BOOTX64.EFI</c>), as <c>tl secureboot verify</c> decides it; <c>passes</c> is null for V1 images.
/// </summary>
public sealed record ImageSecureBootCheck
{
    public bool? Passes { get; init; }

    public required string Detail { get; init; }
}

/// <summary>The body of the image registration PUT (this platform's, not Azure's: Azure has no API to publish platform images).</summary>
public sealed record ImageRegistrationRequest
{
    public ImageRegistrationProperties? Properties { get; init; }
}

public sealed record ImageRegistrationProperties
{
    /// <summary>The disk image (raw or qcow2) on the server's file system.</summary>
    public string? FilePath { get; init; }
}
