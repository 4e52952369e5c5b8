using System.Text;
using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Server.Posture.Stores;

namespace TrustedLaunch.Server.Posture;

/// <summary>
/// The platform's remediations, each a sequence of the control plane's own operations waited for in turn:
/// "Secure Boot should be enabled" — pre-flight (<see cref="SecureBootPreflight"/>, the one the update path runs: the boot
/// chain judged against the VM's keys), then deallocate → update (<c>secureBootEnabled: true</c>) → start; and "Secure Boot
/// certificates should be updated to the 2023 Microsoft CAs" — deallocate → <c>x-tl-updateSecureBootKeys</c> (template
/// <c>microsoft</c>; its host's pre-flight against the VM's ESP refuses a change that would break the boot chain) → start,
/// the start done even when the key update was refused (the VM keeps its old keys, the remediation fails with the reason).
/// Refused up front, with the reason, when the VM could not take it. Its progress is stored; a remediation interrupted by a
/// restart of the service resumes at its step.
/// </summary>
public sealed class SecureBootRemediation(
    VirtualMachineService vms,
    VirtualMachineLifecycle lifecycle,
    IOperationStore operations,
    SecureBootPreflight preflight,
    SecureBootKeyUpdates keyUpdates,
    SqlPostureStore store,
    PostureSignals signals,
    PostureOptions options,
    TimeProvider time,
    ILogger<SecureBootRemediation> logger)
{
    private static readonly string[] SecureBootSteps = ["Deallocate", "Update", "Start"];
    private static readonly string[] CertificateSteps = ["Deallocate", "UpdateKeys", "Start"];

    private static readonly byte[] EnableSecureBoot = Encoding.UTF8.GetBytes("""{"properties":{"securityProfile":{"uefiSettings":{"secureBootEnabled":true}}}}""");

    /// <summary>The steps of the remediation of <paramref name="recommendationKey"/>.</summary>
    public static IReadOnlyList<string> StepsOf(string recommendationKey) =>
        recommendationKey == SecureBootRolloverRecommendations.Certificates2023.Key ? CertificateSteps : SecureBootSteps;

    /// <summary>True for the recommendations the platform fixes itself.</summary>
    public static bool Remediates(string recommendationKey) =>
        recommendationKey == Recommendations.SecureBoot.Key || recommendationKey == SecureBootRolloverRecommendations.Certificates2023.Key;

    /// <summary>Pre-flight, then starts the steps in the background; the answer is the stored remediation (InProgress).</summary>
    public async Task<ArmResult<RemediationRecord>> StartAsync(VirtualMachineKey key, string recommendationKey, CancellationToken cancellationToken)
    {
        ArmResult<VirtualMachineRecord> found = await vms.GetAsync(key, cancellationToken);
        if (found.Failure is ArmFailure missing)
            return missing;
        VirtualMachineRecord vm = found.Value!;
        bool certificates = recommendationKey == SecureBootRolloverRecommendations.Certificates2023.Key;
        if ((certificates ? CertificatePreflight(vm) : await PreflightAsync(vm, cancellationToken)) is ArmFailure refused)
            return refused;
        var remediation = new RemediationRecord
        {
            VmId = vm.VmId, Key = certificates ? SecureBootRolloverRecommendations.Certificates2023.Key : Recommendations.SecureBoot.Key, ResourceId = vm.ResourceId, Status = "InProgress", Step = "Deallocate",
            StartedAt = time.GetUtcNow(),
        };
        if (!await store.SaveRemediationAsync(remediation, onlyIfNotRunning: true, cancellationToken))
            return ArmErrors.Fail(ArmErrors.Conflict, "RemediationInProgress", $"A remediation of '{vm.Name}' is already in progress.");
        Run(remediation, key);
        return ArmResult.Ok(remediation);
    }

    /// <summary>Resumes the remediations a restart interrupted.</summary>
    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        foreach (RemediationRecord remediation in await store.RunningRemediationsAsync(cancellationToken))
        {
            if (await vms.GetAsync(KeyOf(remediation.ResourceId), cancellationToken) is { Value: VirtualMachineRecord vm })
                Run(remediation, vm.Key);
        }
    }

    private async Task<ArmFailure?> PreflightAsync(VirtualMachineRecord vm, CancellationToken cancellationToken)
    {
        VirtualMachineProperties properties = vm.Model.Properties;
        if (!string.Equals(properties.SecurityProfile?.SecurityType, "TrustedLaunch", StringComparison.OrdinalIgnoreCase))
            return Refuse("NotTrustedLaunch", $"'{vm.Name}' is not a Trusted Launch VM: Secure Boot cannot be enabled on it (the recommendation is NotApplicable).");
        if (properties.SecurityProfile?.UefiSettings?.SecureBootEnabled == true)
            return Refuse("SecureBootAlreadyEnabled", $"Secure Boot is already enabled on '{vm.Name}'.");
        // One pre-flight for both paths: the one PATCH secureBootEnabled: true runs (the image's registered verdict for the Microsoft keys).
        VirtualMachineModel enabled = vm.Model with
        {
            Properties = properties with { SecurityProfile = properties.SecurityProfile! with { UefiSettings = (properties.SecurityProfile.UefiSettings ?? new UefiSettings()) with { SecureBootEnabled = true } } },
        };
        return await preflight.CheckAsync(vm, enabled, cancellationToken) is ArmFailure refused
            ? Refuse(refused.Error.Code, refused.Error.Message)
            : null;
    }

    private static ArmFailure? CertificatePreflight(VirtualMachineRecord vm)
    {
        if (SecureBootKeyUpdates.Refusal(vm) is ArmFailure refused)
            return Refuse(refused.Error.Code, refused.Error.Message);
        if (vm.Model.Properties.TrustedLaunchExtensions?.SecureBootTemplate is "custom")
            return Refuse("NotMicrosoftKeys", $"'{vm.Name}' enrolls custom Secure Boot keys: the platform does not add Microsoft's CAs to them (the recommendation is NotApplicable).");
        return null;
    }

    private void Run(RemediationRecord remediation, VirtualMachineKey key) =>
        _ = Task.Run(async () =>
        {
            RemediationRecord current = remediation;
            try
            {
                IReadOnlyList<string> steps = StepsOf(current.Key);
                foreach (string step in steps.SkipWhile(s => s != current.Step))
                {
                    current = current with { Step = step };
                    await store.SaveRemediationAsync(current, onlyIfNotRunning: false, CancellationToken.None);
                    PostureLog.Remediation(logger, current.Key, current.ResourceId, current.Status, step);
                    if (await StepAsync(key, step) is ArmErrorDetail error)
                    {
                        current = current with { Status = "Failed", Error = $"{step}: ({error.Code}) {error.Message}", EndedAt = time.GetUtcNow() };
                        if (step == "UpdateKeys")
                        {
                            // A refused key update changed nothing: the VM starts again with its old keys.
                            current = current with { Step = "Start" };
                            await StepAsync(key, "Start");
                        }

                        break;
                    }
                }

                if (current.Status == "InProgress")
                    current = current with { Status = "Succeeded", Step = "Done", EndedAt = time.GetUtcNow() };
            }
#pragma warning disable CA1031 // a remediation's failure is its status, never the service's
            catch (Exception e)
#pragma warning restore CA1031
            {
                current = current with { Status = "Failed", Error = e.Message, EndedAt = time.GetUtcNow() };
            }

            await store.SaveRemediationAsync(current, onlyIfNotRunning: false, CancellationToken.None);
            PostureLog.Remediation(logger, current.Key, current.ResourceId, current.Status, current.Step);
            signals.Evaluate();
        });

    private async Task<ArmErrorDetail?> StepAsync(VirtualMachineKey key, string step)
    {
        DateTimeOffset deadline = DateTimeOffset.UtcNow + options.RemediationStepTimeout;
        OperationRecord? operation;
        while (true)
        {
            ArmFailure? failure;
            if (step == "UpdateKeys")
            {
                ArmResult<OperationRecord> requested = await keyUpdates.RequestAsync(key, new SecureBootKeyUpdateRequest { Template = SecureBootKeyUpdates.Microsoft },
                    CancellationToken.None);
                (failure, operation) = (requested.Failure, requested.Value);
            }
            else if (step == "Update")
            {
                ArmResult<VmWriteResult> written = await vms.PutAsync(key, EnableSecureBoot, null, null, patch: true, CancellationToken.None);
                (failure, operation) = (written.Failure, written.Value?.Operation);
            }
            else
            {
                ArmResult<OperationRecord> acted = await lifecycle.ActAsync(key, step == "Start" ? VmAction.Start : VmAction.Deallocate, CancellationToken.None);
                (failure, operation) = (acted.Failure, acted.Value);
            }

            // The VM changed under the request (a host's report landed between its read and its write, or the previous
            // step's operation was still being closed): ARM answers 409 AnotherOperationInProgress, and a client asks again.
            if (failure is null || failure.Error.Code != "AnotherOperationInProgress" || DateTimeOffset.UtcNow > deadline)
            {
                if (failure is not null)
                    return failure.Error;
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }

        deadline = DateTimeOffset.UtcNow + options.RemediationStepTimeout;
        while (operation is { Status: OperationStatus.InProgress })
        {
            if (DateTimeOffset.UtcNow > deadline)
                return new ArmErrorDetail { Code = "RemediationTimedOut", Message = $"The {step} operation did not finish within {options.RemediationStepTimeout}." };
            await Task.Delay(TimeSpan.FromMilliseconds(250));
            operation = await operations.GetAsync(operation.OperationId, CancellationToken.None);
        }

        return operation is { Status: OperationStatus.Failed or OperationStatus.Canceled }
            ? operation.Error ?? new ArmErrorDetail { Code = operation.Status.ToString(), Message = $"The {step} operation ended {operation.Status}." }
            : null;
    }

    private static VirtualMachineKey KeyOf(string resourceId)
    {
        string[] parts = resourceId.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return new VirtualMachineKey(parts[1], parts[3], parts[^1]);
    }

    private static ArmFailure Refuse(string code, string message) => ArmErrors.Fail(ArmErrors.Conflict, code, message, "properties.securityProfile.uefiSettings.secureBootEnabled");
}
