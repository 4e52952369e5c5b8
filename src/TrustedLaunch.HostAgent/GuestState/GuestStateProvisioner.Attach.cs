using TrustedLaunch.Storage;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.VTpm.State;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent.GuestState;

public static partial class GuestStateProvisioner
{
    /// <summary>
    /// A detached disk's guest state taken by a new VM (<paramref name="newVmId"/>), in place: the UEFI variables and the vTPM stay
    /// (the same EK, the same AK key pair, every sealed secret: the guest state travels with its disk), its AK certificate is
    /// issued again naming the new VM id (the verifier checks that name), and the identity record names the new VM.
    /// </summary>
    /// <returns>The vTPM's identity after; null when the guest state has no vTPM (a Standard VM's disk).</returns>
    /// <exception cref="VmgsException">The VMGS does not open with the host's key, or is malformed.</exception>
    public static VTpmIdentity? TakeOver(string path, VmgsKeyEncryptionKey kek, Guid newVmId, IPlatformCa? platformCa)
    {
        ArgumentNullException.ThrowIfNull(kek);
        using VmgsFile file = VmgsFile.Open(path, kek, writable: true);
        string template = TemplateOf(file.ReadEntry(VmgsEntryId.VmIdentity));
        VTpmIdentity? tpm = null;
        if (file.ReadEntry(VmgsEntryId.VTpmState) is byte[] state)
        {
            IPlatformCa ca = platformCa ?? throw new GuestStateRequestException("A vTPM's AK needs the platform CA to be certified again.");
            var memory = new EphemeralNonVolatileStore(state);
            lock (LibtpmsGate)
                tpm = AttestationKeyRecertification.Recertify(new VTpmStateStore(memory, $"{path} (vtpm entry)"), ca, newVmId);
            // Each entry replace is crash-consistent; a take-over cut short is done again (the AK certified again) at the next try.
            file.WriteEntry(VmgsEntryId.VTpmState, memory.Restore() ?? state);
        }

        file.WriteEntry(VmgsEntryId.VmIdentity, IdentityJson(newVmId.ToString("D"), template, tpm));
        return tpm;
    }
}
