using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.Attestation;

/// <summary>
/// The path from an AK certificate to a trust anchor among the expected AK CA certificates, checked by hand (the parts
/// of RFC 5280 §6.1 a closed PKI needs): per link the issuer's name, its signature, its validity at the verification
/// time, basicConstraints cA with the path length, keyCertSign when keyUsage is present, and no critical extension
/// the verifier does not process. Only the given certificates are trusted, and only they are read.
/// </summary>
/// <remarks>
/// Why not <see cref="X509Chain"/>: on Linux its first build loads the machine's whole trust store (every file of
/// /etc/ssl/certs and the CA bundle) even with <see cref="X509ChainTrustMode.CustomRootTrust"/>, which made
/// <c>tl attest verify</c> 3–4× slower than its C peers (docs/benchmarks.md), for certificates it must not use anyway.
/// </remarks>
internal static class AkCertificatePath
{
    // No AK PKI is this deep (ours: root, AK CA, AK); the bound keeps a loop of cross-signed CAs finite.
    private const int MaxLinks = 8;

    // Critical extensions whose meaning this check applies (RFC 5280 §4.2): basicConstraints, keyUsage, extKeyUsage
    // (the AK EKU, checked by the caller), subjectAltName (TCG's critical directoryName SAN, informational here).
    private static readonly string[] ProcessedCriticalExtensions = ["2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.17"];

    /// <summary>Null when <paramref name="leaf"/> chains to a self-issued certificate in <paramref name="authorities"/>
    /// through certificates of that set only; otherwise what is wrong. <paramref name="notAfter"/> is the path's end.</summary>
    public static string? Failure(X509Certificate2 leaf, X509Certificate2Collection authorities, DateTimeOffset now, out DateTimeOffset notAfter)
    {
        notAfter = Utc(leaf.NotAfter);
        if (!authorities.Any(IsSelfIssued))
            return "no trust anchor (self-signed root) among the expected AK CA certificates";
        if (UnprocessedCriticalExtension(leaf) is string leafExtension)
            return $"the certificate marks extension {leafExtension} critical, which the verifier does not process";

        X509Certificate2 current = leaf;
        var path = new List<X509Certificate2>();
        for (int link = 0; link < MaxLinks; link++)
        {
            string? rejected = null;
            X509Certificate2? issuer = null;
            foreach (X509Certificate2 candidate in authorities)
            {
                if (path.Contains(candidate) || !current.IssuerName.RawData.AsSpan().SequenceEqual(candidate.SubjectName.RawData))
                    continue;
                rejected = IssuerProblem(current, candidate, path.Count, now);
                if (rejected is null)
                {
                    issuer = candidate;
                    break;
                }
            }

            if (issuer is null)
            {
                string why = rejected ?? $"no expected AK CA is named '{current.Issuer}'";
                return $"the certificate issued by '{leaf.Issuer}' does not chain to the platform AK CA: {why}";
            }

            path.Add(issuer);
            notAfter = Min(notAfter, Utc(issuer.NotAfter));
            if (IsSelfIssued(issuer))
                return null;
            current = issuer;
        }

        return $"the certificate issued by '{leaf.Issuer}' does not chain to the platform AK CA within {MaxLinks} certificates";
    }

    // Why `issuer` cannot have issued `child`, or null when it did; `intermediatesBelow` counts the CAs already on the path.
    private static string? IssuerProblem(X509Certificate2 child, X509Certificate2 issuer, int intermediatesBelow, DateTimeOffset now)
    {
        string name = $"'{issuer.Subject}'";
        X509BasicConstraintsExtension? constraints = issuer.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (constraints is null || !constraints.CertificateAuthority)
            return $"{name} is not a CA (basicConstraints cA is not set)";
        if (constraints.HasPathLengthConstraint && intermediatesBelow > constraints.PathLengthConstraint)
            return $"{name} allows {constraints.PathLengthConstraint} CA certificate(s) below it, the path has {intermediatesBelow}";
        X509KeyUsageExtension? usage = issuer.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (usage is not null && (usage.KeyUsages & X509KeyUsageFlags.KeyCertSign) == 0)
            return $"{name} may not sign certificates (keyUsage lacks keyCertSign)";
        if (UnprocessedCriticalExtension(issuer) is string extension)
            return $"{name} marks extension {extension} critical, which the verifier does not process";
        if (now < Utc(issuer.NotBefore) || now > Utc(issuer.NotAfter))
            return $"{name} is not valid at {now:O} (valid {Utc(issuer.NotBefore):O} to {Utc(issuer.NotAfter):O})";
        if (!SignatureVerifies(child.RawData, issuer))
            return $"the signature of '{child.Subject}' does not verify with the key of {name}";
        return null;
    }

    private static bool IsSelfIssued(X509Certificate2 certificate) =>
        certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);

    private static string? UnprocessedCriticalExtension(X509Certificate2 certificate)
    {
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension.Critical && Array.IndexOf(ProcessedCriticalExtensions, extension.Oid?.Value) < 0)
                return extension.Oid?.Value ?? "(no OID)";
        }

        return null;
    }

    private static bool SignatureVerifies(byte[] certificateDer, X509Certificate2 issuer)
    {
        try
        {
            // RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
            AsnReader certificate = new AsnReader(certificateDer, AsnEncodingRules.DER).ReadSequence();
            ReadOnlyMemory<byte> tbs = certificate.ReadEncodedValue();
            ReadOnlyMemory<byte> algorithmIdentifier = certificate.PeekEncodedValue();
            string algorithm = certificate.ReadSequence().ReadObjectIdentifier();
            byte[] signature = certificate.ReadBitString(out int unusedBits);
            // §4.1.1.2: the signed algorithm (inside the TBS) must be the outer one, or the signature says nothing.
            if (unusedBits != 0 || !SignedAlgorithm(tbs).Span.SequenceEqual(algorithmIdentifier.Span))
                return false;
            switch (algorithm)
            {
                case "1.2.840.113549.1.1.11" or "1.2.840.113549.1.1.12" or "1.2.840.113549.1.1.13":
                    using (RSA? rsa = issuer.GetRSAPublicKey())
                        return rsa is not null && rsa.VerifyData(tbs.Span, signature, Hash(algorithm), RSASignaturePadding.Pkcs1);
                case "1.2.840.10045.4.3.2" or "1.2.840.10045.4.3.3" or "1.2.840.10045.4.3.4":
                    using (ECDsa? ecdsa = issuer.GetECDsaPublicKey())
                        return ecdsa is not null && ecdsa.VerifyData(tbs.Span, signature, Hash(algorithm), DSASignatureFormat.Rfc3279DerSequence);
                default:
                    return false; // SHA-1 and unknown algorithms: no AK CA of ours signs with them
            }
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            return false;
        }
    }

    // TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, serialNumber, signature AlgorithmIdentifier, … }
    private static ReadOnlyMemory<byte> SignedAlgorithm(ReadOnlyMemory<byte> tbs)
    {
        AsnReader fields = new AsnReader(tbs, AsnEncodingRules.DER).ReadSequence();
        if (fields.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
            fields.ReadEncodedValue();
        fields.ReadEncodedValue();
        return fields.PeekEncodedValue();
    }

    private static HashAlgorithmName Hash(string algorithm) => algorithm switch
    {
        "1.2.840.113549.1.1.11" or "1.2.840.10045.4.3.2" => HashAlgorithmName.SHA256,
        "1.2.840.113549.1.1.12" or "1.2.840.10045.4.3.3" => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    private static DateTimeOffset Utc(DateTime time) => new(time.ToUniversalTime());

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
