using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.Pe.Authenticode.Signatures;

/// <summary>
/// A decoded Authenticode signature: PKCS#7 SignedData whose content is an <c>SpcIndirectDataContent</c>
/// (Authenticode PE spec; fact sheet uefi-formats.md §3.2) naming the image digest, plus the certificates it carries.
/// </summary>
public sealed class AuthenticodeSignature
{
    /// <summary><c>SPC_INDIRECT_DATA_OBJID</c>.</summary>
    public const string SpcIndirectDataOid = "1.3.6.1.4.1.311.2.1.4";

    private const int MaxChainDepth = 16;

    private readonly SignedCms _cms;

    private AuthenticodeSignature(ReadOnlyMemory<byte> encoded, SignedCms cms)
    {
        Encoded = encoded;
        _cms = cms;
    }

    /// <summary>The DER PKCS#7 as found in the WIN_CERTIFICATE.</summary>
    public ReadOnlyMemory<byte> Encoded { get; }

    /// <summary>Digest algorithm named in SpcIndirectDataContent.messageDigest.</summary>
    public required string DigestAlgorithmOid { get; init; }

    /// <summary>The image digest the signer signed (SpcIndirectDataContent.messageDigest.digest).</summary>
    public required ReadOnlyMemory<byte> SignedDigest { get; init; }

    /// <summary>The value octets of SpcIndirectDataContent (without its SEQUENCE tag and length): what the signer hashed.</summary>
    public required ReadOnlyMemory<byte> IndirectDataContent { get; init; }

    /// <summary>
    /// The image-hash algorithm the firmware will use, found as edk2's HashPeImageByType finds it: the OID at byte +32 of the
    /// ContentInfo, which presumes two-byte DER lengths. Null when the firmware would skip this signature (no match,
    /// SHA-224, or a PKCS#7 of 64 KiB or more).
    /// </summary>
    public HashAlgorithmName? FirmwareDigestAlgorithm => FirmwareDigestAlgorithmOf(Encoded.Span);


    /// <summary>The signer certificate of each SignerInfo, or null where it is not among the embedded certificates.</summary>
    public IReadOnlyList<X509Certificate2?> Signers => [.. _cms.SignerInfos.Cast<SignerInfo>().Select(SignerCertificate)];

    /// <summary>Every embedded certificate that parses (a corrupt one is skipped, as OpenSSL would fail to use it).</summary>
    public IReadOnlyList<X509Certificate2> ParsableCertificates
    {
        get
        {
            try
            {
                return [.. _cms.Certificates];
            }
            catch (CryptographicException)
            {
                return [];
            }
        }
    }

    /// <summary>Decodes a PKCS#7 ContentInfo(SignedData(SpcIndirectDataContent)).</summary>
    public static AuthenticodeSignature Decode(ReadOnlyMemory<byte> pkcs7)
    {
        var cms = new SignedCms();
        try
        {
            cms.Decode(pkcs7.Span);
        }
        catch (CryptographicException e)
        {
            throw new AuthenticodeException(AuthenticodeFailure.MalformedSignature, "Not a PKCS#7 SignedData: " + e.Message, e);
        }

        if (!string.Equals(cms.ContentInfo.ContentType.Value, SpcIndirectDataOid, StringComparison.Ordinal))
        {
            throw new AuthenticodeException(AuthenticodeFailure.MalformedSignature,
                $"SignedData content type is {cms.ContentInfo.ContentType.Value}, not SpcIndirectDataContent ({SpcIndirectDataOid}).");
        }

        try
        {
            // SignerInfos and their attributes decode lazily; touch them here so a corrupt one is a typed error now.
            if (cms.SignerInfos.Count == 0)
                throw new AuthenticodeException(AuthenticodeFailure.MalformedSignature, "SignedData has no SignerInfo.");
            foreach (SignerInfo signer in cms.SignerInfos)
                _ = signer.SignedAttributes.Count;

            // SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue, messageDigest DigestInfo }
            ReadOnlyMemory<byte> content = cms.ContentInfo.Content;
            var outer = new AsnReader(content, AsnEncodingRules.BER);
            ReadOnlyMemory<byte> value = outer.PeekContentBytes();
            var indirect = outer.ReadSequence();
            indirect.ReadEncodedValue();
            var digestInfo = indirect.ReadSequence();
            string oid = digestInfo.ReadSequence().ReadObjectIdentifier();
            byte[] digest = digestInfo.ReadOctetString();
            return new AuthenticodeSignature(pkcs7, cms) { DigestAlgorithmOid = oid, SignedDigest = digest, IndirectDataContent = value };
        }
        catch (AsnContentException e)
        {
            throw new AuthenticodeException(AuthenticodeFailure.MalformedSignature, "SpcIndirectDataContent is malformed: " + e.Message, e);
        }
        catch (CryptographicException e)
        {
            throw new AuthenticodeException(AuthenticodeFailure.MalformedSignature, "SignerInfo is malformed: " + e.Message, e);
        }
    }

    /// <summary>
    /// edk2 AuthenticodeVerify's digest check: the last <c>digest.Length</c> bytes of SpcIndirectDataContent equal the
    /// computed image digest.
    /// </summary>
    public bool MatchesImageDigest(ReadOnlySpan<byte> imageDigest)
    {
        ReadOnlySpan<byte> content = IndirectDataContent.Span;
        return content.Length >= imageDigest.Length && content[^imageDigest.Length..].SequenceEqual(imageDigest);
    }

    /// <summary>
    /// Verifies every SignerInfo's signature (authenticated attributes, messageDigest over the SpcIndirectDataContent value)
    /// with its signer certificate, which must be embedded, as OpenSSL's PKCS7_verify needs. No chain, time or EKU checks.
    /// </summary>
    public bool TryVerifySignerSignatures(out string? error)
    {
        foreach (SignerInfo signer in _cms.SignerInfos)
        {
            var certificate = SignerCertificate(signer);
            if (certificate is null)
            {
                error = "the signer certificate is not embedded in the signature (or does not parse)";
                return false;
            }

            try
            {
                signer.CheckSignature(verifySignatureOnly: true);
            }
            catch (CryptographicException e)
            {
                error = $"the signature of {certificate.Subject} does not verify: {e.Message}";
                return false;
            }
        }

        error = null;
        return true;
    }

    /// <summary>The signer certificate followed by its issuers as found among the embedded certificates.</summary>
    public IReadOnlyList<X509Certificate2> SignerChain(X509Certificate2 signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var chain = new List<X509Certificate2> { signer };
        var current = signer;
        while (chain.Count < MaxChainDepth)
        {
            X509Certificate2? next = null;
            foreach (var candidate in ParsableCertificates)
            {
                if (!chain.Any(c => c.RawData.AsSpan().SequenceEqual(candidate.RawData)) && CertificateIssuance.IsIssuedBy(current, candidate))
                {
                    next = candidate;
                    break;
                }
            }

            if (next is null)
                break;
            chain.Add(next);
            current = next;
        }

        return chain;
    }

    /// <summary>
    /// True when every SignerInfo's chain reaches <paramref name="anchor"/>: the anchor is the signer or one of its embedded
    /// issuers (byte-equal), or it issued one of them. Partial chains count, as with X509_V_FLAG_PARTIAL_CHAIN.
    /// </summary>
    public bool ChainsTo(X509Certificate2 anchor)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        foreach (SignerInfo signer in _cms.SignerInfos)
        {
            if (SignerCertificate(signer) is not { } certificate)
                return false;
            bool reached = false;
            foreach (var link in SignerChain(certificate))
            {
                if (link.RawData.AsSpan().SequenceEqual(anchor.RawData) || CertificateIssuance.IsIssuedBy(link, anchor))
                {
                    reached = true;
                    break;
                }
            }

            if (!reached)
                return false;
        }

        return true;
    }

    private static X509Certificate2? SignerCertificate(SignerInfo signer)
    {
        try
        {
            return signer.Certificate;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The image-hash algorithm edk2 reads from a raw PKCS#7 (see <see cref="FirmwareDigestAlgorithm"/>), without decoding it.</summary>
    public static HashAlgorithmName? FirmwareDigestAlgorithmOf(ReadOnlySpan<byte> auth)
    {
        // DxeImageVerificationLib HashPeImageByType: only a two-byte long-form length (0x82) is understood, and the first
        // digestAlgorithms OID is then at the fixed offset +32 of the ContentInfo. SHA-224 has no hash functions there.
        if (auth.Length < 2 || (auth[1] & 0x82) != 0x82)
            return null;
        ReadOnlySpan<byte> sha1 = [0x2B, 0x0E, 0x03, 0x02, 0x1A];
        ReadOnlySpan<byte> sha2Prefix = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];
        if (auth.Length >= 32 + sha1.Length && auth.Slice(32, sha1.Length).SequenceEqual(sha1))
            return HashAlgorithmName.SHA1;
        if (auth.Length < 32 + 9 || !auth.Slice(32, 8).SequenceEqual(sha2Prefix))
            return null;
        return auth[40] switch
        {
            0x01 => HashAlgorithmName.SHA256,
            0x02 => HashAlgorithmName.SHA384,
            0x03 => HashAlgorithmName.SHA512,
            _ => null,
        };
    }
}
