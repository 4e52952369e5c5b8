using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Swtpm;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.GuestAgent.Tests;

/// <summary>
/// A real swtpm given the identity tl-vtpm manufactures (VTpmManufacturer's steps, through the TPM's own commands):
/// chosen PCR banks allocated, the restricted RSA-2048 AK from <see cref="VTpmLayout.AkTemplate"/> in the endorsement
/// hierarchy persisted at 0x81000003, its certificate from the platform AK CA written and write-locked at 0x01C101D0.
/// Some PCRs are extended so the quoted values are not all zero.
/// </summary>
public sealed class ProvisionedSwtpm : IDisposable
{
    private static readonly Lazy<FilePlatformCa> SharedCa = new(() =>
        FilePlatformCa.Create(Path.Combine(RepositoryPaths.NewTempDirectory("tl-agent-ca"), "pki"), "TrustedLaunch Agent Test"));

    private ProvisionedSwtpm(SwtpmProcess swtpm, X509Certificate2 akCertificate, IReadOnlyList<TpmAlgId> banks)
    {
        Swtpm = swtpm;
        AkCertificate = akCertificate;
        Banks = banks;
    }

    public static FilePlatformCa Ca => SharedCa.Value;

    public SwtpmProcess Swtpm { get; }

    public X509Certificate2 AkCertificate { get; }

    public IReadOnlyList<TpmAlgId> Banks { get; }

    /// <summary>The agent's --tpm value for this TPM.</summary>
    public string Tcti => $"swtpm:path={Swtpm.DataSocketPath}";

    public TpmClient Connect() => new(SwtpmSocketTransport.Unix(Swtpm.DataSocketPath!));

    public static ProvisionedSwtpm Start(string vmId, params TpmAlgId[] banks)
    {
        SwtpmProcess swtpm = SwtpmProcess.Start(new SwtpmOptions { UseUnixSockets = true });
        try
        {
            using (var tpm = new TpmClient(SwtpmSocketTransport.Unix(swtpm.DataSocketPath!)))
            {
                // TPM 2.0 Part 3 §22.5: a new allocation takes effect at the next _TPM_Init (swtpm CMD_INIT).
                var allocation = new TpmlPcrSelection(VTpmLayout.ImplementedBanks
                    .Select(b => new TpmsPcrSelection(b, banks.Contains(b) ? Enumerable.Range(0, 24).ToArray() : [])).ToArray());
                Assert.True(tpm.PcrAllocate(allocation).Success);
                tpm.Shutdown(TpmSu.Clear);
                SwtpmControlClient.Unix(swtpm.ControlSocketPath!).Init();
                tpm.Startup(TpmSu.Clear);

                CreatePrimaryResult ak = tpm.CreatePrimary(TpmHandles.Endorsement, VTpmLayout.AkTemplate);
                tpm.EvictControl(ak.Handle, VTpmLayout.Ak.PersistentHandle);
                tpm.FlushContext(ak.Handle);
                using RSA akKey = ak.Public.ToRsa();
                var description = new TpmDescription("IBM", "swtpm", "0.7", "2.0", 0, 164);
                X509Certificate2 certificate = TpmCertificateBuilder.IssueAttestationKeyCertificate(akKey, Guid.Parse(vmId), description, Ca.AttestationKeyCa,
                    DateTimeOffset.UtcNow.AddMinutes(-5));
                byte[] der = certificate.RawData;
                tpm.NvDefineSpace(new TpmsNvPublic(VTpmLayout.Ak.CertificateIndex, TpmAlgId.Sha256, VTpmLayout.CertificateIndexAttributes, [], (ushort)der.Length),
                    authHandle: TpmHandles.Platform);
                tpm.NvWriteAll(VTpmLayout.Ak.CertificateIndex, der, authHandle: TpmHandles.Platform);
                tpm.NvWriteLock(VTpmLayout.Ak.CertificateIndex, authHandle: TpmHandles.Platform);

                foreach (int pcr in new[] { 0, 4, 7, 9, 14 })
                {
                    tpm.PcrExtend(pcr, banks.Select(b => new TpmtHa(b, RandomNumberGenerator.GetBytes(TpmHashAlgorithm.DigestSize(b)))).ToList());
                }

                return new ProvisionedSwtpm(swtpm, certificate, banks);
            }
        }
        catch
        {
            swtpm.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        AkCertificate.Dispose();
        Swtpm.Dispose();
    }
}
