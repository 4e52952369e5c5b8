using System.Text.Json;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent.GuestState;

public static partial class GuestStateProvisioner
{
    /// <summary>
    /// A new VM's guest state from another VM's (a snapshot): the UEFI variable store is copied byte for byte (Secure Boot
    /// keys, boot entries), but the vTPM is <b>freshly manufactured</b> for <paramref name="newVmId"/> with new EK and AK
    /// certificates, and the identity names the new VM. A copy never shares its source's TPM: two VMs with one EK would be
    /// indistinguishable to every verifier, and the source's sealed secrets stay the source's (docs/lifecycle.md).
    /// </summary>
    /// <param name="source">The source VMGS, opened read-only with <paramref name="kek"/> (it must authenticate).</param>
    /// <returns>The new vTPM's identity; null when the source had no vTPM (a Standard VM's copy gets none either).</returns>
    /// <exception cref="VmgsException">The source does not open with the key, or is malformed.</exception>
    /// <exception cref="GuestStateRequestException">The source has no variable store.</exception>
    public static VTpmIdentity? CreateCopy(string path, VmgsKeyEncryptionKey kek, Guid newVmId, string source, IPlatformCa? platformCa)
    {
        ArgumentNullException.ThrowIfNull(kek);
        if (File.Exists(path))
            throw new IOException($"{path} exists; guest state is never overwritten (delete it first if you mean to).");
        byte[] nvram;
        bool hadVTpm;
        string template;
        using (VmgsFile from = VmgsFile.Open(source, kek, writable: false))
        {
            nvram = from.ReadEntry(VmgsEntryId.UefiNvram) ?? throw new GuestStateRequestException($"{source} has no uefi-nvram entry to copy.");
            hadVTpm = from.ReadEntry(VmgsEntryId.VTpmState) is not null;
            template = TemplateOf(from.ReadEntry(VmgsEntryId.VmIdentity));
        }

        byte[]? tpmState = null;
        VTpmIdentity? tpm = null;
        if (hadVTpm)
        {
            IPlatformCa ca = platformCa ?? throw new GuestStateRequestException("A vTPM needs the platform CA that certifies its EK and AK.");
            (tpmState, tpm) = Manufacture(ca, newVmId);
        }

        VmgsFile.CreateWith(path, kek, file =>
        {
            file.WriteEntry(VmgsEntryId.UefiNvram, nvram);
            if (tpmState is not null)
                file.WriteEntry(VmgsEntryId.VTpmState, tpmState);
            file.WriteEntry(VmgsEntryId.VmIdentity, IdentityJson(newVmId.ToString("D"), template, tpm));
        });
        return tpm;
    }

    private static string TemplateOf(byte[]? identity)
    {
        if (identity is null)
            return "unknown";
        try
        {
            using JsonDocument json = JsonDocument.Parse(identity);
            return json.RootElement.TryGetProperty("secureBootTemplate", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "unknown";
        }
        catch (JsonException)
        {
            return "unknown";
        }
    }
}
