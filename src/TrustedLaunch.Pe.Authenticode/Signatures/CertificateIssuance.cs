using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.Pe.Authenticode.Signatures;

/// <summary>
/// Certificate-to-issuer links checked by hand, without the platform's chain engine: the firmware (OpenSSL with
/// X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME and X509_PURPOSE_ANY) accepts any trusted certificate as an
/// anchor and ignores validity periods and EKUs, which X509Chain cannot be told to do on every platform.
/// </summary>
public static class CertificateIssuance
{
    /// <summary>The DER <c>TBSCertificate</c> of a certificate (RFC 5280 §4.1), the input of dbx X509_SHA* entries.</summary>
    public static ReadOnlyMemory<byte> TbsCertificate(ReadOnlyMemory<byte> certificate)
    {
        try
        {
            var outer = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence();
            return outer.ReadEncodedValue();
        }
        catch (AsnContentException e)
        {
            throw new AuthenticodeException(AuthenticodeFailure.MalformedSignature, "Certificate is not DER: " + e.Message, e);
        }
    }

    /// <summary>
    /// True when <paramref name="issuer"/> issued <paramref name="child"/>: names match, the issuer may act as a CA
    /// (OpenSSL X509_check_ca: basicConstraints cA, keyCertSign, or a v1 certificate) and its key verifies the signature.
    /// </summary>
    public static bool IsIssuedBy(X509Certificate2 child, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(child);
        ArgumentNullException.ThrowIfNull(issuer);
        if (!child.IssuerName.RawData.AsSpan().SequenceEqual(issuer.SubjectName.RawData) || !MayIssue(issuer))
            return false;
        return SignatureVerifies(child.RawData, issuer);
    }

    private static bool MayIssue(X509Certificate2 certificate)
    {
        if (certificate.Version == 1)
            return true;
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509BasicConstraintsExtension bc && bc.CertificateAuthority)
                return true;
            if (extension is X509KeyUsageExtension ku && (ku.KeyUsages & X509KeyUsageFlags.KeyCertSign) != 0)
                return true;
        }

        return false;
    }

    private static bool SignatureVerifies(byte[] childDer, X509Certificate2 issuer)
    {
        try
        {
            // RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
            var outer = new AsnReader(childDer, AsnEncodingRules.DER).ReadSequence();
            ReadOnlyMemory<byte> tbs = outer.ReadEncodedValue();
            string algorithm = outer.ReadSequence().ReadObjectIdentifier();
            byte[] signature = outer.ReadBitString(out _);
            switch (algorithm)
            {
                case "1.2.840.113549.1.1.5":
                case "1.2.840.113549.1.1.11":
                case "1.2.840.113549.1.1.12":
                case "1.2.840.113549.1.1.13":
                    using (RSA? rsa = issuer.GetRSAPublicKey())
                        return rsa is not null && rsa.VerifyData(tbs.Span, signature, RsaHash(algorithm), RSASignaturePadding.Pkcs1);
                case "1.2.840.10045.4.3.2":
                case "1.2.840.10045.4.3.3":
                case "1.2.840.10045.4.3.4":
                    using (ECDsa? ec = issuer.GetECDsaPublicKey())
                        return ec is not null && ec.VerifyData(tbs.Span, signature, EcHash(algorithm), DSASignatureFormat.Rfc3279DerSequence);
                default:
                    return false;
            }
        }
        catch (AsnContentException)
        {
            return false;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static HashAlgorithmName RsaHash(string oid) => oid switch
    {
        "1.2.840.113549.1.1.5" => HashAlgorithmName.SHA1,
        "1.2.840.113549.1.1.11" => HashAlgorithmName.SHA256,
        "1.2.840.113549.1.1.12" => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    private static HashAlgorithmName EcHash(string oid) => oid switch
    {
        "1.2.840.10045.4.3.2" => HashAlgorithmName.SHA256,
        "1.2.840.10045.4.3.3" => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };
}
