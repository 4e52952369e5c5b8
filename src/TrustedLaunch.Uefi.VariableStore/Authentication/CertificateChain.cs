using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>
/// Chain checks the way edk2's Pkcs7Verify (OpenSSL with X509_V_FLAG_PARTIAL_CHAIN, time and purpose errors ignored) makes
/// them: a signer is trusted when walking issuer links through the certificates carried in the SignedData reaches a
/// certificate byte-equal to a trust anchor. An anchor need not be self-signed (intermediates in KEK/db are anchors).
/// </summary>
public static class CertificateChain
{
    private const int MaxDepth = 8;

    /// <summary>The anchor the signer chains to, or null.</summary>
    public static X509Certificate2? FindAnchor(X509Certificate2 signer, IReadOnlyCollection<X509Certificate2> carried, IReadOnlyCollection<X509Certificate2> anchors)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(carried);
        ArgumentNullException.ThrowIfNull(anchors);
        var current = signer;
        for (int depth = 0; depth < MaxDepth; depth++)
        {
            var anchor = anchors.FirstOrDefault(a => a.RawData.AsSpan().SequenceEqual(current.RawData));
            if (anchor is not null)
                return anchor;
            // An anchor that issued the current certificate also ends the walk (OpenSSL looks issuers up in the trust store).
            var issuingAnchor = anchors.FirstOrDefault(a => IsIssuedBy(current, a));
            if (issuingAnchor is not null)
                return issuingAnchor;
            var next = carried.FirstOrDefault(c => !c.RawData.AsSpan().SequenceEqual(current.RawData) && IsIssuedBy(current, c));
            if (next is null)
                return null;
            current = next;
        }

        return null;
    }

    /// <summary>
    /// The top of the signer's chain inside the SignedData (edk2 Pkcs7GetSigners' TopLevelCert): follow issuer names through
    /// the carried certificates until none matches.
    /// </summary>
    public static X509Certificate2 TopLevel(X509Certificate2 signer, IReadOnlyCollection<X509Certificate2> carried)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(carried);
        var current = signer;
        for (int depth = 0; depth < MaxDepth; depth++)
        {
            if (current.SubjectName.RawData.AsSpan().SequenceEqual(current.IssuerName.RawData))
                return current;
            var issuer = carried.FirstOrDefault(c => !c.RawData.AsSpan().SequenceEqual(current.RawData)
                && c.SubjectName.RawData.AsSpan().SequenceEqual(current.IssuerName.RawData));
            if (issuer is null)
                return current;
            current = issuer;
        }

        return current;
    }

    /// <summary>True when <paramref name="issuer"/>'s subject is <paramref name="child"/>'s issuer and its key verifies the child's signature.</summary>
    public static bool IsIssuedBy(X509Certificate2 child, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(child);
        ArgumentNullException.ThrowIfNull(issuer);
        if (!child.IssuerName.RawData.AsSpan().SequenceEqual(issuer.SubjectName.RawData))
            return false;
        try
        {
            // RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }.
            var reader = new AsnReader(child.RawData, AsnEncodingRules.DER).ReadSequence();
            ReadOnlyMemory<byte> tbs = reader.ReadEncodedValue();
            var algorithm = reader.ReadSequence();
            string oid = algorithm.ReadObjectIdentifier();
            byte[] signature = reader.ReadBitString(out _);
            HashAlgorithmName? hash = oid switch
            {
                "1.2.840.113549.1.1.11" or "1.2.840.10045.4.3.2" => HashAlgorithmName.SHA256,
                "1.2.840.113549.1.1.12" or "1.2.840.10045.4.3.3" => HashAlgorithmName.SHA384,
                "1.2.840.113549.1.1.13" or "1.2.840.10045.4.3.4" => HashAlgorithmName.SHA512,
                "1.2.840.113549.1.1.5" or "1.2.840.10045.4.1" => HashAlgorithmName.SHA1,
                _ => null,
            };
            if (hash is not { } h)
                return false;
            using var rsa = issuer.GetRSAPublicKey();
            if (rsa is not null)
                return oid.StartsWith("1.2.840.113549", StringComparison.Ordinal) && rsa.VerifyData(tbs.Span, signature, h, RSASignaturePadding.Pkcs1);
            using var ec = issuer.GetECDsaPublicKey();
            return ec is not null && oid.StartsWith("1.2.840.10045", StringComparison.Ordinal)
                && ec.VerifyData(tbs.Span, signature, h, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            return false;
        }
    }
}
