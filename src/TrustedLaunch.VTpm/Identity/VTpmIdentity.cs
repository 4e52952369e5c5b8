using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;

namespace TrustedLaunch.VTpm.Identity;

/// <summary>One identity key of a vTPM as read from the TPM itself.</summary>
public sealed record VTpmKeyIdentity
{
    public required string Role { get; init; }
    public required string PersistentHandle { get; init; }
    public required string CertificateIndex { get; init; }
    public string? Algorithm { get; init; }
    /// <summary>The TPM Name (nameAlg ‖ digest of TPMT_PUBLIC), hex.</summary>
    public string? Name { get; init; }
    public string? PublicKeyPem { get; init; }
    public string? CertificatePem { get; init; }
    public string? CertificateSubject { get; init; }
    public string? CertificateIssuer { get; init; }
    public string? CertificateSerial { get; init; }
    public DateTime? CertificateNotAfter { get; init; }
}

/// <summary>What <c>tl vtpm show</c> reports: the keys, their certificates, the banks and the NV indices.</summary>
public sealed record VTpmIdentity
{
    public required string LibtpmsVersion { get; init; }
    public string? VmId { get; init; }
    public required IReadOnlyList<VTpmKeyIdentity> Keys { get; init; }
    public required IReadOnlyList<string> PcrBanks { get; init; }
    public required IReadOnlyList<string> NvIndices { get; init; }
    public required IReadOnlyList<string> PersistentHandles { get; init; }

    public VTpmKeyIdentity Key(string role) => Keys.Single(k => k.Role == role);
}

/// <summary>Reads a vTPM's identity with TPM commands (ReadPublic, NV_Read, GetCapability): the TPM is the source of truth.</summary>
public static class VTpmIdentityReader
{
    public static VTpmIdentity Read(TpmClient client, uint libtpmsVersion)
    {
        ArgumentNullException.ThrowIfNull(client);
        var persistent = client.GetHandles(0x81000000).ToHashSet();
        var nvIndices = client.GetHandles(0x01000000).ToHashSet();
        var keys = new List<VTpmKeyIdentity>();
        string? vmId = null;
        foreach (VTpmKeySlot slot in VTpmLayout.Slots)
        {
            var key = new VTpmKeyIdentity
            {
                Role = slot.Role,
                PersistentHandle = $"0x{slot.PersistentHandle:X8}",
                CertificateIndex = $"0x{slot.CertificateIndex:X8}",
            };
            if (persistent.Contains(slot.PersistentHandle))
            {
                ReadPublicResult pub = client.ReadPublic(slot.PersistentHandle);
                using AsymmetricAlgorithm publicKey = pub.Public.Type == TpmAlgId.Rsa ? pub.Public.ToRsa() : pub.Public.ToECDsa();
                key = key with
                {
                    Algorithm = pub.Public.Type == TpmAlgId.Rsa ? $"rsa{pub.Public.RsaKeyBits}" : $"ecc-{pub.Public.EccCurve}",
                    Name = Convert.ToHexStringLower(pub.Name),
                    PublicKeyPem = publicKey.ExportSubjectPublicKeyInfoPem(),
                };
            }

            if (nvIndices.Contains(slot.CertificateIndex))
            {
                byte[] der = client.NvReadAll(slot.CertificateIndex);
                using var certificate = X509CertificateLoader.LoadCertificate(der);
                vmId ??= certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
                key = key with
                {
                    CertificatePem = certificate.ExportCertificatePem(),
                    CertificateSubject = certificate.Subject,
                    CertificateIssuer = certificate.Issuer,
                    CertificateSerial = certificate.SerialNumber,
                    CertificateNotAfter = certificate.NotAfter.ToUniversalTime(),
                };
            }

            keys.Add(key);
        }

        return new VTpmIdentity
        {
            LibtpmsVersion = State.VTpmStateStore.LibTpmsVersionText(libtpmsVersion),
            VmId = vmId,
            Keys = keys,
            PcrBanks = client.GetPcrBanks().Selections.Where(s => s.Indices.Count > 0).Select(s => s.Hash.ToString().ToLowerInvariant()).ToList(),
            NvIndices = nvIndices.Order().Select(h => $"0x{h:X8}").ToList(),
            PersistentHandles = persistent.Order().Select(h => $"0x{h:X8}").ToList(),
        };
    }
}
