using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>The latest attestation of a VM, as the instance view shows it.</summary>
public sealed record AttestationSummary(string Verdict, string? Reason, string? Component, string? Message, DateTimeOffset At);

/// <summary>Where the instance view reads a VM's latest attestation from (the attestation service's result store).</summary>
public interface IAttestationStatusSource
{
    Task<AttestationSummary?> GetLatestAsync(Guid vmId, CancellationToken cancellationToken);
}

/// <summary>Turns stored records into ARM answers.</summary>
public static class VirtualMachineViews
{
    /// <summary>The VM as GET answers it; <paramref name="apiVersion"/> decides members that came with later versions.</summary>
    public static VirtualMachineResource Resource(VirtualMachineRecord vm, string? apiVersion, VirtualMachineInstanceView? instanceView = null)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return new VirtualMachineResource
        {
            Id = vm.ResourceId,
            Name = vm.Name,
            Type = ResourceIds.VirtualMachineType,
            Location = vm.Location,
            Tags = vm.Model.Tags,
            Etag = EntityTags.Format(vm.Version),
            Properties = vm.Model.Properties with
            {
                VmId = vm.VmId.ToString(),
                ProvisioningState = vm.ProvisioningState.ToString(),
                TimeCreated = ApiVersions.AtLeast(apiVersion, ApiVersions.TimeCreatedSince) ? vm.TimeCreated : null,
                InstanceView = instanceView,
            },
        };
    }

    /// <summary>The operation monitor an <c>Azure-AsyncOperation</c> header points at (path and query).</summary>
    public static string OperationUrl(OperationRecord operation, string apiVersion, bool monitor = false)
    {
        ArgumentNullException.ThrowIfNull(operation);
        string path = operation.Kind == OperationKind.DeleteResourceGroup
            ? $"/subscriptions/{operation.SubscriptionId}/operationresults/{operation.OperationId}"
            : ResourceIds.Operation(operation.SubscriptionId, operation.Location, operation.OperationId);
        return $"{path}?{(monitor ? "monitor=true&" : "")}api-version={Uri.EscapeDataString(apiVersion)}";
    }

    public static OperationStatusResource Operation(OperationRecord operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return new OperationStatusResource
        {
            Name = operation.OperationId,
            Status = operation.Status.ToString(),
            StartTime = operation.StartTime,
            EndTime = operation.EndTime,
            Error = operation.Error,
        };
    }

    /// <summary>The vTPM identity its host reported; null when none was reported yet.</summary>
    public static ShieldedInstanceIdentity? Identity(VirtualMachineRecord vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (vm.LastReport?.VTpmKeys is not { Count: > 0 } keys)
            return null;
        Hosts.VTpmKeyReport? ek = keys.FirstOrDefault(k => k.Role == "ek-rsa2048") ?? keys.FirstOrDefault(k => k.Role.StartsWith("ek", StringComparison.Ordinal));
        Hosts.VTpmKeyReport? ak = keys.FirstOrDefault(k => k.Role.StartsWith("ak", StringComparison.Ordinal));
        return new ShieldedInstanceIdentity
        {
            VmId = vm.VmId.ToString(),
            EncryptionKey = ek is null ? null : new ShieldedInstanceIdentityEntry(ek.CertificatePem, ek.PublicKeyPem),
            SigningKey = ak is null ? null : new ShieldedInstanceIdentityEntry(ak.CertificatePem, ak.PublicKeyPem),
            Keys = keys,
        };
    }

    /// <summary>The power state the instance view shows: the host's report, unknown when the host is lost, else what the VM is converging to.</summary>
    public static PowerState DisplayedPower(VirtualMachineRecord vm, bool? hostAlive)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (vm.HostName is not null && hostAlive == false)
            return PowerState.Unknown;
        if (vm.ActualPower is PowerState actual && vm.HostName is not null)
            return actual;
        return vm.DesiredPower switch
        {
            DesiredPowerState.Running => PowerState.Starting,
            DesiredPowerState.Stopped => vm.HostName is null ? PowerState.Stopped : PowerState.Stopping,
            _ => vm.HostName is null ? PowerState.Deallocated : PowerState.Deallocating,
        };
    }

    public static VirtualMachineInstanceView InstanceView(VirtualMachineRecord vm, bool? hostAlive, OperationRecord? pending,
        AttestationSummary? attestation, HyperVGeneration? generation)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var statuses = new List<InstanceViewStatus> { Provisioning(vm, pending) };
        PowerState power = DisplayedPower(vm, hostAlive);
        statuses.Add(new InstanceViewStatus
        {
            Code = "PowerState/" + power.ToString().ToLowerInvariant(),
            Level = power == PowerState.Unknown ? "Warning" : "Info",
            DisplayStatus = power == PowerState.Unknown ? "VM status unknown" : "VM " + power.ToString().ToLowerInvariant(),
            Message = power == PowerState.Unknown ? $"Host '{vm.HostName}' has not been heard from; the VM's state is unknown, not stopped." : null,
        });
        if (vm.LastReport is { BootVerdict: string verdict } report)
        {
            statuses.Add(new InstanceViewStatus
            {
                Code = "BootVerdict/" + verdict,
                Level = verdict == "booted" ? "Info" : "Error",
                DisplayStatus = verdict == "booted" ? "Booted" : "Boot failed: " + verdict,
                Message = report.BootVerdictDetail,
                Time = report.ReportedAt,
            });
        }

        if (attestation is not null)
        {
            bool pass = attestation.Verdict == "pass";
            statuses.Add(new InstanceViewStatus
            {
                Code = "GuestAttestation/" + attestation.Verdict,
                Level = pass ? "Info" : "Error",
                DisplayStatus = pass ? "Attestation passed" : "Attestation failed",
                Message = pass ? null : string.Join(": ", new[] { attestation.Reason, attestation.Component, attestation.Message }.Where(s => !string.IsNullOrEmpty(s))),
                Time = attestation.At,
            });
        }

        if (vm.SecureBootKeyUpdate is SecureBootKeyUpdateRecord keys)
            statuses.Add(KeyUpdateStatus(keys));
        return new VirtualMachineInstanceView
        {
            ComputerName = vm.Model.Properties.OSProfile?.ComputerName,
            HyperVGeneration = generation?.ToString(),
            PlatformFaultDomain = vm.Model.Properties.PlatformFaultDomain,
            Statuses = statuses,
            SecureBootKeyUpdate = vm.SecureBootKeyUpdate is { } update ? update with { DbxUpdate = null } : null,
        };
    }

    private static InstanceViewStatus KeyUpdateStatus(SecureBootKeyUpdateRecord keys) => new()
    {
        Code = "x-tl-SecureBootKeyUpdate/" + char.ToLowerInvariant(keys.State[0]) + keys.State[1..],
        Level = keys.State == "Failed" ? "Error" : "Info",
        DisplayStatus = keys.State switch
        {
            "Pending" => "Secure Boot key update pending: its host applies it now",
            "PendingRestart" => "Secure Boot key update pending: applied at the VM's next restart",
            "Succeeded" => "Secure Boot keys updated" + (keys.Outcome == "Unchanged" ? " (nothing to change)" : ""),
            _ => "Secure Boot key update refused",
        },
        Message = keys.Message ?? $"operation {keys.OperationId}",
        Time = keys.CompletedAt ?? keys.RequestedAt,
    };

    private static InstanceViewStatus Provisioning(VirtualMachineRecord vm, OperationRecord? pending)
    {
        ProvisioningState state = vm.ProvisioningState;
        if (state == ProvisioningState.Failed)
        {
            ArmErrorDetail? error = vm.LastReport?.Error ?? pending?.Error;
            return new InstanceViewStatus
            {
                Code = "ProvisioningState/failed/" + (error?.Code ?? "Unknown"),
                Level = "Error",
                DisplayStatus = "Provisioning failed",
                Message = error?.Message,
                Time = vm.LastReport?.ReportedAt,
            };
        }

        return new InstanceViewStatus
        {
            Code = "ProvisioningState/" + state.ToString().ToLowerInvariant(),
            Level = "Info",
            DisplayStatus = state == ProvisioningState.Succeeded ? "Provisioning succeeded" : state.ToString(),
            Time = state == ProvisioningState.Succeeded ? pending?.EndTime ?? vm.LastReport?.ReportedAt : null,
        };
    }
}
