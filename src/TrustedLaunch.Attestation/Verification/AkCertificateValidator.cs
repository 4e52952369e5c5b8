using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation;

/// <summary>
/// Decides whether an AK certificate is the platform's statement about this VM's attestation key: it chains to a
/// trust anchor in the expected AK CA set through a CA in that set, carries the TCG AK EKU (so an EK certificate
/// from the same PKI does not pass), names the expected VM in its subject CN (as <c>TpmCertificateBuilder</c>
/// issues it), and certifies exactly the key that signed the quote.
/// </summary>
internal static class AkCertificateValidator
{
    // TCG EK Credential Profile §3.2.16: tcg-kp-AIKCertificate.
    internal const string AikCertificateEku = "2.23.133.8.3";

    /// <param name="certificateDer">The AK certificate from the evidence.</param>
    /// <param name="akPublicArea">The evidence's TPM2B_PUBLIC bytes of the AK.</param>
    /// <param name="akPublic">The same, parsed.</param>
    /// <param name="expected">Expected VM id and AK CA certificates.</param>
    /// <param name="now">Validity time.</param>
    /// <param name="cache">Chains found valid before (the verifier's caches); null builds the chain every time.</param>
    public static AttestationFailure? Validate(byte[] certificateDer, byte[] akPublicArea, TpmtPublic akPublic, AttestationExpectations expected, DateTimeOffset now,
        AkChainCache? cache)
    {
        AkChainCache.Key? key = cache is null ? null : AkChainCache.KeyOf(certificateDer, akPublicArea, expected.AkCaCertificates);
        if (key is not null && cache!.TryGet(key.Value, now, out string[]? cachedNames))
            return CheckVmId(cachedNames!, expected.VmId);

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(certificateDer);
        }
        catch (CryptographicException e)
        {
            return new AttestationFailure(AttestationFailureReason.EvidenceMalformed, "AK certificate", $"not a DER X.509 certificate: {e.Message}");
        }

        using (certificate)
        {
            if (ChainFailure(certificate, expected.AkCaCertificates, now, out DateTimeOffset chainNotAfter) is string chainProblem)
                return new AttestationFailure(AttestationFailureReason.AkNotFromThisVm, "AK certificate: chain", chainProblem);

            byte[] certified = certificate.PublicKey.ExportSubjectPublicKeyInfo();
            byte[]? quoting = SubjectPublicKeyInfo(akPublic);
            if (quoting is null || !certified.AsSpan().SequenceEqual(quoting))
            {
                return new AttestationFailure(AttestationFailureReason.AkNotFromThisVm, "AK certificate: public key",
                    "the certificate certifies a different key than the AK public area in the evidence");
            }

            string[] commonNames = CommonNames(certificate.SubjectName);
            if (key is not null)
                cache!.Add(key.Value, new DateTimeOffset(certificate.NotBefore.ToUniversalTime()), chainNotAfter, commonNames);
            return CheckVmId(commonNames, expected.VmId);
        }
    }

    // The subject must hold exactly one CN, and it must be the VM id in its canonical form: a subject with a second CN
    // (or an id with text around it) is not a statement about this VM, whichever CN a library would pick first.
    private static AttestationFailure? CheckVmId(string[] commonNames, Guid expected)
    {
        if (commonNames.Length == 1 && string.Equals(commonNames[0], expected.ToString("D"), StringComparison.OrdinalIgnoreCase))
            return null;
        string named = commonNames.Length == 0 ? "no common name" : string.Join(", ", commonNames.Select(n => $"'{n}'"));
        return new AttestationFailure(AttestationFailureReason.AkNotFromThisVm, "AK certificate: VM id",
            commonNames.Length > 1
                ? $"the AK certificate's subject holds {commonNames.Length} common names ({named}); exactly one, the VM id {expected:D}, is required"
                : $"the AK certificate belongs to VM {named}, not {expected:D}");
    }

    // RFC 5280 §4.1.2.6: every CN attribute of every RDN, in order.
    private static string[] CommonNames(X500DistinguishedName subject)
    {
        var names = new List<string>();
        foreach (X500RelativeDistinguishedName rdn in subject.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.HasMultipleElements)
            {
                // A multi-valued RDN may hide a CN beside another attribute: count it as one CN we cannot read.
                names.Add("(multi-valued RDN)");
                continue;
            }

            if (rdn.GetSingleElementType().Value == CommonNameOid)
                names.Add(rdn.GetSingleElementValue() ?? "");
        }

        return names.ToArray();
    }

    private const string CommonNameOid = "2.5.4.3";

    private static string? ChainFailure(X509Certificate2 certificate, X509Certificate2Collection authorities, DateTimeOffset now, out DateTimeOffset notAfter)
    {
        notAfter = default;
        bool hasEku = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .Any(e => e.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == AikCertificateEku));
        if (!hasEku)
            return "the certificate lacks the TCG AK EKU (2.23.133.8.3): it is not an attestation-key certificate";
        if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
            return $"the certificate is not valid at {now:O} (valid {certificate.NotBefore.ToUniversalTime():O} to {certificate.NotAfter.ToUniversalTime():O})";

        return AkCertificatePath.Failure(certificate, authorities, now, out notAfter);
    }

    private static byte[]? SubjectPublicKeyInfo(TpmtPublic key)
    {
        try
        {
            switch (key.Type)
            {
                case TpmAlgId.Rsa:
                {
                    using RSA rsa = key.ToRsa();
                    return rsa.ExportSubjectPublicKeyInfo();
                }

                case TpmAlgId.Ecc:
                {
                    using ECDsa ecdsa = key.ToECDsa();
                    return ecdsa.ExportSubjectPublicKeyInfo();
                }

                default:
                    return null;
            }
        }
        catch (Exception e) when (e is CryptographicException or InvalidOperationException or NotSupportedException)
        {
            return null;
        }
    }

}
