using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.Runtime;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Vmgs.Format;

namespace TrustedLaunch.HostAgent.Vms;

/// <summary>
/// The error a failed start reports (the operation fails with it and the instance view shows it as
/// <c>ProvisioningState/failed/CODE</c>). A vTPM whose state cannot be opened — the VMGS does not open with the host's key,
/// its <c>vtpm</c> entry fails authentication, or tl-vtpm refuses what it holds — is <see cref="VTpmStateLocked"/>, Azure's
/// "vTPM state is locked" case: the VM does not start, and nothing is re-manufactured, so the guest never meets a reset TPM.
/// </summary>
internal static class VmStartFailure
{
    public const string VTpmStateLocked = "VTpmStateLocked";
    public const string GuestStateLocked = "GuestStateLocked";
    public const string GuestStateInUse = "GuestStateInUse";
    public const string VmStartFailed = "VmStartFailed";

    /// <summary>The code and message for a start of <paramref name="vmName"/> that threw <paramref name="e"/>.</summary>
    /// <param name="hasVTpm">The VM has a vTPM (Trusted Launch with vTPM on): a VMGS that will not open locks it.</param>
    public static ArmErrorDetail Describe(Exception e, string vmName, bool hasVTpm)
    {
        ArgumentNullException.ThrowIfNull(e);
        (string code, string message) = e switch
        {
            VmRuntimeException { Failure: VmRuntimeFailure.VTpmStateRefused } => (VTpmStateLocked, Locked(vmName, e.Message)),
            VmgsGuestStateException { Problem: VmgsGuestStateProblem.InUse } => (GuestStateInUse, e.Message),
            VmgsGuestStateException { Entry: VmgsEntryId.VTpmState } => (VTpmStateLocked, Locked(vmName, e.Message)),
            VmgsGuestStateException { Entry: null, Problem: VmgsGuestStateProblem.BadKey or VmgsGuestStateProblem.IntegrityFailed or VmgsGuestStateProblem.Malformed }
                when hasVTpm => (VTpmStateLocked, Locked(vmName, e.Message)),
            VmgsGuestStateException => (GuestStateLocked, $"The guest state (VMGS) of virtual machine {vmName} cannot be used, so it was not started: {e.Message}"),
            _ => (VmStartFailed, e.Message),
        };
        return new ArmErrorDetail { Code = code, Message = message };
    }

    // Azure's words for the case (trusted-launch-faq), then why, then what is not done and what the owner can do.
    private static string Locked(string vmName, string reason) =>
        $"Virtual machine {vmName} failed to start because the virtual Trusted Platform Module (vTPM) state is locked: {reason.Trim()} " +
        "The vTPM was not reset and no new one was made; restore the VM's guest state from a snapshot or backup, or delete the VM.";
}
