using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.VTpm.Identity;

/// <summary>What a TPM says about itself (libtpms TPMLIB_GetInfo), written into its certificates.</summary>
public sealed record TpmDescription(string Manufacturer, string Model, string Version, string SpecFamily, int SpecLevel, int SpecRevision);

/// <summary>
/// Issues X.509 certificates for TPM keys per the TCG EK Credential Profile for TPM Family 2.0 (v2.5 §3.2):
/// critical SAN with a directoryName of tcg-at-tpmManufacturer/Model/Version, subjectDirectoryAttributes with
/// tcg-at-tpmSpecification, EKU tcg-kp-EKCertificate (EK) or tcg-kp-AIKCertificate (AK). The subject names the VM.
/// The private key is never needed: the certificate is built over the TPM's public key.
/// </summary>
public static class TpmCertificateBuilder
{
    public const string OidTpmManufacturer = "2.23.133.2.1";
    public const string OidTpmModel = "2.23.133.2.2";
    public const string OidTpmVersion = "2.23.133.2.3";
    public const string OidTpmSpecification = "2.23.133.2.16";
    public const string OidEkCertificate = "2.23.133.8.1";
    public const string OidAikCertificate = "2.23.133.8.3";
    private const string OidSubjectAltName = "2.5.29.17";
    private const string OidSubjectDirectoryAttributes = "2.5.29.9";

    /// <summary>An EK certificate: keyEncipherment for RSA, keyAgreement for ECC (EK Credential Profile §3.2.9).</summary>
    public static X509Certificate2 IssueEndorsementKeyCertificate(AsymmetricAlgorithm ekPublic, Guid vmId, TpmDescription tpm,
        ICertificateAuthority ca, DateTimeOffset notBefore)
    {
        X509KeyUsageFlags usage = ekPublic is RSA ? X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.KeyAgreement;
        return Issue(ekPublic, Subject(vmId, "vTPM Endorsement Key"), tpm, ca, notBefore, usage, OidEkCertificate);
    }

    /// <summary>An AK certificate: digitalSignature, EKU tcg-kp-AIKCertificate (as Azure's vTPM AK certificates carry).</summary>
    public static X509Certificate2 IssueAttestationKeyCertificate(AsymmetricAlgorithm akPublic, Guid vmId, TpmDescription tpm,
        ICertificateAuthority ca, DateTimeOffset notBefore) =>
        Issue(akPublic, Subject(vmId, "vTPM Attestation Key"), tpm, ca, notBefore, X509KeyUsageFlags.DigitalSignature, OidAikCertificate);

    // Built attribute by attribute, never from text: the VM id is a GUID and the subject holds exactly one CN, which
    // the verifier requires (an id spliced into "CN=…" text could add RDNs of its own).
    private static X500DistinguishedName Subject(Guid vmId, string keyKind)
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddOrganizationalUnitName(keyKind);
        builder.AddCommonName(vmId.ToString("D"));
        return builder.Build();
    }

    private static X509Certificate2 Issue(AsymmetricAlgorithm publicKey, X500DistinguishedName subject, TpmDescription tpm,
        ICertificateAuthority ca, DateTimeOffset notBefore, X509KeyUsageFlags usage, string ekuOid)
    {
        PublicKey key = publicKey switch
        {
            RSA rsa => new PublicKey(rsa),
            ECDsa ecdsa => new PublicKey(ecdsa),
            _ => throw new ArgumentException($"Unsupported key type {publicKey.GetType().Name}.", nameof(publicKey)),
        };
        var request = new CertificateRequest(subject, key, ca.SignatureHash);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ekuOid)], false));
        request.CertificateExtensions.Add(new X509Extension(OidSubjectAltName, TpmSubjectAltName(tpm), critical: true));
        request.CertificateExtensions.Add(new X509Extension(OidSubjectDirectoryAttributes, TpmSpecificationAttributes(tpm), critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(key, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca.Certificate, true, false));
        // EK Credential Profile §3.2.6: EK certificates are long-lived; they end with the CA that issued them.
        DateTimeOffset notAfter = ca.Certificate.NotAfter.ToUniversalTime() < notBefore.AddYears(20)
            ? new DateTimeOffset(ca.Certificate.NotAfter.ToUniversalTime())
            : notBefore.AddYears(20);
        return request.Create(ca.Certificate.SubjectName, ca.CreateSignatureGenerator(), notBefore, notAfter, FilePlatformCa.RandomSerial());
    }

    /// <summary>
    /// SubjectAltName = GeneralNames { directoryName [4] Name { RDN{tpmManufacturer}, RDN{tpmModel}, RDN{tpmVersion} } }
    /// (EK Credential Profile §3.2.9, values as UTF8String).
    /// </summary>
    internal static byte[] TpmSubjectAltName(TpmDescription tpm)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence()) // GeneralNames
        {
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 4, isConstructed: true))) // directoryName, EXPLICIT Name
            {
                using (writer.PushSequence()) // RDNSequence
                {
                    WriteRdn(writer, OidTpmManufacturer, tpm.Manufacturer);
                    WriteRdn(writer, OidTpmModel, tpm.Model);
                    WriteRdn(writer, OidTpmVersion, tpm.Version);
                }
            }
        }

        return writer.Encode();
    }

    /// <summary>
    /// SubjectDirectoryAttributes = SEQUENCE OF Attribute { tcg-at-tpmSpecification, SET { TPMSpecification ::=
    /// SEQUENCE { family UTF8String, level INTEGER, revision INTEGER } } } (EK Credential Profile §3.2.12).
    /// </summary>
    internal static byte[] TpmSpecificationAttributes(TpmDescription tpm)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(OidTpmSpecification);
                using (writer.PushSetOf())
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteCharacterString(UniversalTagNumber.UTF8String, tpm.SpecFamily);
                        writer.WriteInteger(tpm.SpecLevel);
                        writer.WriteInteger(tpm.SpecRevision);
                    }
                }
            }
        }

        return writer.Encode();
    }

    private static void WriteRdn(AsnWriter writer, string oid, string value)
    {
        using (writer.PushSetOf())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(oid);
                writer.WriteCharacterString(UniversalTagNumber.UTF8String, value);
            }
        }
    }

    /// <summary>Reads the TPM attributes back from a certificate's SAN; null when absent.</summary>
    public static TpmDescription? ReadTpmDescription(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        X509Extension? san = certificate.Extensions[OidSubjectAltName];
        if (san is null)
            return null;
        try
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var reader = new AsnReader(san.RawData, AsnEncodingRules.DER).ReadSequence();
            var name = reader.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 4, true)).ReadSequence();
            while (name.HasData)
            {
                var set = name.ReadSetOf();
                while (set.HasData)
                {
                    var attribute = set.ReadSequence();
                    string oid = attribute.ReadObjectIdentifier();
                    values[oid] = attribute.ReadCharacterString(UniversalTagNumber.UTF8String);
                }
            }

            return new TpmDescription(values.GetValueOrDefault(OidTpmManufacturer, ""), values.GetValueOrDefault(OidTpmModel, ""),
                values.GetValueOrDefault(OidTpmVersion, ""), "", 0, 0);
        }
        catch (AsnContentException)
        {
            return null;
        }
    }
}
