using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.VTpm.Engine;
using TrustedLaunch.VTpm.State;

namespace TrustedLaunch.VTpm.Identity;

/// <summary>
/// Certifies an existing vTPM's AK again for another VM id: a detached OS disk and its guest state attached to a new VM (a new
/// <c>vmId</c>, as Azure gives). The vTPM itself travels with the disk: its EKs, their certificates, the AK key pair and every
/// sealed secret stay; only the AK certificate (whose subject names the VM id the verifier expects) is replaced, in its
/// platform NV index (undefined with platform authorization, defined, written and write-locked again).
/// </summary>
public static class AttestationKeyRecertification
{
    /// <summary>Re-issues the AK certificate of the vTPM in <paramref name="store"/> for <paramref name="vmId"/>; returns the identity after.</summary>
    /// <exception cref="InvalidOperationException">The vTPM has no AK at its persistent handle.</exception>
    public static VTpmIdentity Recertify(VTpmStateStore store, IPlatformCa ca, Guid vmId, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ca);
        VTpmStateImage image = store.Load(LibTpmsEngine.LibraryVersion);
        using LibTpmsEngine engine = LibTpmsEngine.Open(store, image);
        engine.Initialize();
        TpmDescription tpm = VTpmManufacturer.Describe(engine);
        using var client = new TpmClient(engine, ownsTransport: false);
        client.Startup(TpmSu.Clear);
        VTpmKeySlot slot = VTpmLayout.Ak;
        ReadPublicResult ak;
        try
        {
            ak = client.ReadPublic(slot.PersistentHandle);
        }
        catch (TpmResponseException e)
        {
            throw new InvalidOperationException($"The vTPM has no AK at 0x{slot.PersistentHandle:X8} to certify for VM {vmId}: {e.Message}", e);
        }

        using (RSA publicKey = ak.Public.ToRsa())
        {
            DateTimeOffset notBefore = (time ?? TimeProvider.System).GetUtcNow().AddMinutes(-5);
            using X509Certificate2 certificate = TpmCertificateBuilder.IssueAttestationKeyCertificate(publicKey, vmId, tpm, ca.AttestationKeyCa, notBefore);
            byte[] der = certificate.RawData;
            client.NvUndefineSpace(slot.CertificateIndex, authHandle: TpmHandles.Platform);
            client.NvDefineSpace(new TpmsNvPublic(slot.CertificateIndex, TpmAlgId.Sha256, VTpmLayout.CertificateIndexAttributes, [], (ushort)der.Length),
                authHandle: TpmHandles.Platform);
            client.NvWriteAll(slot.CertificateIndex, der, authHandle: TpmHandles.Platform);
            client.NvWriteLock(slot.CertificateIndex, authHandle: TpmHandles.Platform);
        }

        VTpmIdentity identity = VTpmIdentityReader.Read(client, LibTpmsEngine.LibraryVersion);
        client.Shutdown(TpmSu.Clear);
        engine.Terminate();
        return identity;
    }
}
