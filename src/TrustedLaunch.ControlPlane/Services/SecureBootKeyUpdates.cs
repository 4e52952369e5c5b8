using System.Security.Cryptography;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>
/// <c>POST …/virtualMachines/{name}/x-tl-updateSecureBootKeys</c>: the Secure Boot certificate rollover of one VM
/// (docs/secureboot-rollover.md). The request is recorded on the VM with its operation in one write; the VM's host
/// rewrites KEK/db/dbx in the VMGS (the existing <c>SecureBootKeyUpdater</c>: pre-flight against the disk's ESP, dbx through
/// the authenticated path, crash-safe entry write) now when the VM is not running, else before its next start, and reports
/// what changed. That report completes the operation, and an applied change arms the sanctioned relearn of the VM's
/// early-boot baseline for its next boot, recorded with the operation's id.
/// </summary>
public sealed class SecureBootKeyUpdates(
    IVirtualMachineStore machines,
    IOperationStore operations,
    HostSignals signals,
    IKeyChangeSanctions sanctions,
    TimeProvider time)
{
    public const string Microsoft = "microsoft";
    public const string Microsoft2023 = "microsoft-2023";
    private const int Attempts = 5;
    private const int MaxDbxUpdateBytes = 1024 * 1024;

    /// <summary>Checks the body alone: a template we roll to, a dbx update that is base64 and not too large, and at least one of them.</summary>
    public static ArmFailure? Validate(SecureBootKeyUpdateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Template is null && request.DbxUpdate is null)
            return ArmErrors.InvalidParameter("Nothing to do: give template (microsoft or microsoft-2023), dbxUpdate (a signed dbx update, base64) or both.", "template");
        if (request.Template is not null && request.Template is not (Microsoft or Microsoft2023))
        {
            return ArmErrors.InvalidParameter(
                $"The template '{request.Template}' is not valid for a key update: use 'microsoft' (2011 and 2023 CAs) or 'microsoft-2023' (2023 only).", "template");
        }

        if (request.DbxUpdate is not null && DbxBytes(request.DbxUpdate) is not { Length: > 0 and <= MaxDbxUpdateBytes })
            return ArmErrors.InvalidParameter("dbxUpdate must be a signed dbx update (e.g. DBXUpdate.bin), base64, at most 1 MiB.", "dbxUpdate");
        return null;
    }

    /// <summary>Records the update and its operation (202); the VM's host applies it. Refused while another key update of the VM is pending.</summary>
    public async Task<ArmResult<OperationRecord>> RequestAsync(VirtualMachineKey key, SecureBootKeyUpdateRequest request, CancellationToken cancellationToken)
    {
        if (Validate(request) is ArmFailure invalid)
            return invalid;
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            VirtualMachineRecord? vm = await machines.GetAsync(key, cancellationToken);
            if (vm is null)
                return ArmErrors.ResourceNotFound(ResourceIds.VirtualMachineType, key.Name, key.ResourceGroup);
            if (Refusal(vm) is ArmFailure refused)
                return refused;
            if (vm.SecureBootKeyUpdate is { IsPending: true } pending
                && await operations.GetAsync(pending.OperationId, cancellationToken) is { Status: OperationStatus.InProgress } running)
                return ArmErrors.AnotherOperationInProgress(VirtualMachineViews.OperationUrl(running, ApiVersions.Compute[0]));

            DateTimeOffset now = time.GetUtcNow();
            OperationRecord operation = VirtualMachineService.NewOperation(key, vm.Location, OperationKind.UpdateSecureBootKeys, vm.Version, now);
            byte[]? dbx = request.DbxUpdate is null ? null : DbxBytes(request.DbxUpdate);
            var update = new SecureBootKeyUpdateRecord
            {
                State = vm.DesiredPower == DesiredPowerState.Running ? "PendingRestart" : "Pending",
                OperationId = operation.OperationId,
                RequestedAt = now,
                Template = request.Template,
                DbxUpdate = dbx is null ? null : Convert.ToBase64String(dbx),
                DbxUpdateName = request.DbxUpdateName ?? (dbx is null ? null : "the dbx update"),
                DbxUpdateSha256 = dbx is null ? null : Convert.ToHexStringLower(SHA256.HashData(dbx)),
            };
            var write = new VirtualMachineWrite
            {
                Key = key, Record = vm with { SecureBootKeyUpdate = update }, ExpectedSequence = vm.ChangeSequence, Operations = [operation],
            };
            if (await machines.WriteAsync(write, cancellationToken) == WriteOutcome.Written)
            {
                signals.Notify(vm.HostName!);
                return ArmResult.Ok<OperationRecord>(operation);
            }
        }

        return ArmErrors.AnotherOperationInProgress(ResourceIds.VirtualMachine(key.SubscriptionId, key.ResourceGroup, key.Name));
    }

    /// <summary>One VM: the update recorded, with what happens next.</summary>
    public async Task<ArmResult<SecureBootKeyUpdateVmResult>> RequestOneAsync(VirtualMachineKey key, SecureBootKeyUpdateRequest request,
        CancellationToken cancellationToken)
    {
        ArmResult<OperationRecord> requested = await RequestAsync(key, request, cancellationToken);
        if (requested.Failure is ArmFailure failure)
            return failure;
        VirtualMachineRecord vm = (await machines.GetAsync(key, cancellationToken))!;
        return ArmResult.Ok<SecureBootKeyUpdateVmResult>(Accepted(vm, requested.Value!));
    }

    /// <summary>
    /// The fleet form: every VM of the resource group (or of one flexible scale set in it) gets its own update and operation,
    /// recorded one by one; a VM that cannot take it is listed Refused with the reason and stops nothing else. Each VM's host
    /// applies its own VMs' updates one VM at a time; <c>tl vm secure-boot update-keys -g RG</c> bounds how many run at once.
    /// </summary>
    public async Task<ArmResult<SecureBootKeyUpdateFleetResult>> RequestFleetAsync(string subscriptionId, string resourceGroup, SecureBootKeyUpdateRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Validate(request) is ArmFailure invalid)
            return invalid;
        var results = new List<SecureBootKeyUpdateVmResult>();
        string? continuation = null;
        do
        {
            Page<VirtualMachineRecord> page = await machines.ListAsync(subscriptionId, resourceGroup, continuation, 100, cancellationToken);
            foreach (VirtualMachineRecord vm in page.Items.Where(v => InScaleSet(v, request.VirtualMachineScaleSet)))
            {
                ArmResult<OperationRecord> one = await RequestAsync(vm.Key, request, cancellationToken);
                results.Add(one.Failure is ArmFailure refused
                    ? new SecureBootKeyUpdateVmResult { Name = vm.Name, Id = vm.ResourceId, Status = "Refused", Error = refused.Error }
                    : Accepted(vm, one.Value!));
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        if (results.Count == 0 && request.VirtualMachineScaleSet is string scaleSet)
            return ArmErrors.ResourceNotFound(ResourceIds.VirtualMachineScaleSetType, scaleSet, resourceGroup);
        return ArmResult.Ok<SecureBootKeyUpdateFleetResult>(new SecureBootKeyUpdateFleetResult { Value = results });
    }

    private static bool InScaleSet(VirtualMachineRecord vm, string? scaleSet) =>
        scaleSet is null
        || (vm.Model.Properties.VirtualMachineScaleSet?.Id is string id
            && id.EndsWith("/virtualMachineScaleSets/" + scaleSet, StringComparison.OrdinalIgnoreCase));

    private static SecureBootKeyUpdateVmResult Accepted(VirtualMachineRecord vm, OperationRecord operation)
    {
        bool running = vm.DesiredPower == DesiredPowerState.Running;
        return new SecureBootKeyUpdateVmResult
        {
            Name = vm.Name,
            Id = vm.ResourceId,
            Status = running ? "PendingRestart" : "Pending",
            Message = running
                ? $"VM '{vm.Name}' is running: the update is recorded and its host applies it before the VM's next start (restart or deallocate and start it)."
                : $"VM '{vm.Name}' is not running: its host applies the update now.",
            OperationId = operation.OperationId,
            OperationUrl = VirtualMachineViews.OperationUrl(operation, ApiVersions.Compute[0]),
        };
    }

    /// <summary>Why this VM cannot take a key update, or null.</summary>
    public static ArmFailure? Refusal(VirtualMachineRecord vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (vm.Model.Properties.SecurityProfile?.SecurityType != VmPlanner.TrustedLaunch || vm.Generation != Catalogs.HyperVGeneration.V2)
            return ArmErrors.OperationNotAllowed($"VM '{vm.Name}' is not a Trusted Launch VM: it has no Secure Boot keys to update.");
        if (vm.ProvisioningState is ProvisioningState.Creating or ProvisioningState.Deleting)
            return ArmErrors.AnotherOperationInProgress(vm.ResourceId);
        if (vm.HostName is null)
            return ArmErrors.OperationNotAllowed($"VM '{vm.Name}' has not been placed on a host yet: it has no guest state to update.");
        return null;
    }

    /// <summary>The assignment a host gets while the VM's update is pending.</summary>
    public static SecureBootKeyUpdateAssignment? Assignment(VirtualMachineRecord vm) =>
        vm?.SecureBootKeyUpdate is { IsPending: true } u
            ? new SecureBootKeyUpdateAssignment { OperationId = u.OperationId, Template = u.Template, DbxUpdate = u.DbxUpdate, DbxUpdateName = u.DbxUpdateName }
            : null;

    /// <summary>
    /// A host's answer for the VM's pending update: the record with the outcome (the update's bytes dropped), the operation
    /// completed, and for a change the VM's next boot proves, the sanction armed first (so no attestation can see the new
    /// keys before it). Null when the report is for no pending update of this VM (late or repeated).
    /// </summary>
    public async Task<(VirtualMachineRecord Record, OperationRecord? Completed)?> ApplyReportAsync(VirtualMachineRecord vm, SecureBootKeyUpdateReport report,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(report);
        if (vm.SecureBootKeyUpdate is not { IsPending: true } pending || pending.OperationId != report.OperationId)
            return null;
        bool succeeded = report.Outcome is "Applied" or "Unchanged";
        if (succeeded && report.After is SecureBootKeyDigests after)
            await sanctions.ArmAsync(vm.VmId, report.OperationId, after, cancellationToken);
        SecureBootKeyUpdateRecord done = pending with
        {
            State = succeeded ? "Succeeded" : "Failed",
            DbxUpdate = null,
            CompletedAt = now,
            Outcome = report.Outcome,
            Message = report.Message,
            Changes = report.Changes,
            DbxUpdateSigner = report.DbxUpdateSigner,
            Before = report.Before,
            After = report.After,
        };
        OperationRecord? operation = await operations.GetAsync(report.OperationId, cancellationToken);
        OperationRecord? completed = operation is { Status: OperationStatus.InProgress }
            ? operation.Complete(succeeded ? OperationStatus.Succeeded : OperationStatus.Failed, now, succeeded ? null : Error(vm.Name, report))
            : null;
        return (vm with { SecureBootKeyUpdate = done }, completed);
    }

    /// <summary>
    /// A VM deleted while its update was pending: the update's operation ends <c>Canceled</c> (nothing was applied to a
    /// VMGS that no longer exists) instead of staying InProgress. Null when no update was pending.
    /// </summary>
    public async Task<OperationRecord?> CancelForDeletionAsync(VirtualMachineRecord vm, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (vm.SecureBootKeyUpdate is not { IsPending: true } pending)
            return null;
        OperationRecord? operation = await operations.GetAsync(pending.OperationId, cancellationToken);
        return operation is { Status: OperationStatus.InProgress }
            ? operation.Complete(OperationStatus.Canceled, now, new ArmErrorDetail
            {
                Code = "OperationCanceled",
                Message = $"VM '{vm.Name}' was deleted before its Secure Boot key update was applied; nothing was changed.",
            })
            : null;
    }

    /// <summary>The operation's error for a refused update: the pre-flight's code as the update path uses it, else one per cause.</summary>
    public static ArmErrorDetail Error(string vmName, SecureBootKeyUpdateReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        string code = report.Outcome switch
        {
            "RefusedByPreflight" => SecureBootPreflight.FailedCode,
            "RefusedByKek" => "SecureBootKeyUpdateRefusedByKek",
            "InvalidUpdate" => "InvalidDbxUpdate",
            "NotApplicable" => "SecureBootKeyUpdateNotApplicable",
            _ => "SecureBootKeyUpdateFailed",
        };
        return new ArmErrorDetail { Code = code, Message = $"VM '{vmName}': {report.Message} Nothing was changed." };
    }

    private static byte[]? DbxBytes(string base64)
    {
        try
        {
            return Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
