using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>How the trust anchors are used (SecurityPkg AuthService.c VerifyTimeBasedPayload).</summary>
public enum AuthenticationAnchorKind
{
    /// <summary>AuthVarTypePk: the top-level certificate of the signer chain must byte-equal the enrolled PK (no chaining to it).</summary>
    PlatformKey,

    /// <summary>AuthVarTypeKek: the signer must chain (partial chains allowed) to any X.509 certificate in KEK.</summary>
    KeyExchangeKey,
}

/// <summary>Outcome of verifying an authentication descriptor: the signer, the anchor it chained to, or why not.</summary>
public sealed record AuthenticationVerdict(bool Verified, string Reason, X509Certificate2? Signer = null, X509Certificate2? Anchor = null);

/// <summary>
/// Verifies an EFI_VARIABLE_AUTHENTICATION_2 as edk2's VerifyTimeBasedPayload does: GMT timestamp, WIN_CERT_TYPE_EFI_GUID
/// with PKCS#7 type (checked by the parser), SHA-256 digest at the fixed DER offset, a detached PKCS#7 whose signature
/// covers name ‖ guid ‖ attributes ‖ timestamp ‖ payload, and a signer trusted per <see cref="AuthenticationAnchorKind"/>.
/// Certificate validity times and key usages are not checked, as edk2 does not check them.
/// </summary>
public static class AuthenticatedVariableVerifier
{
    public static AuthenticationVerdict Verify(EfiVariableAuthentication2 authentication, VariableKey variable, EfiVariableAttributes attributes,
        AuthenticationAnchorKind kind, IReadOnlyCollection<X509Certificate2> anchors)
    {
        ArgumentNullException.ThrowIfNull(authentication);
        ArgumentNullException.ThrowIfNull(anchors);
        if (!authentication.TimeStamp.IsValidAuthenticationTime)
            return new AuthenticationVerdict(false, "TimeStamp has non-zero Pad1/Nanosecond/TimeZone/Daylight/Pad2.");
        ReadOnlySpan<byte> der = authentication.SignedData.Span;
        if (SignedDataEncoding.CheckEdk2Shape(der) is { } shape)
            return new AuthenticationVerdict(false, shape);

        var cms = new SignedCms(new ContentInfo(TimeBasedSigningData.Build(variable.Name, variable.VendorGuid, attributes, authentication.TimeStamp, authentication.Payload.Span)), detached: true);
        try
        {
            cms.Decode(SignedDataEncoding.ToContentInfo(der));
        }
        catch (Exception e) when (e is CryptographicException or System.Formats.Asn1.AsnContentException)
        {
            return new AuthenticationVerdict(false, $"AuthInfo.CertData is not a PKCS#7 SignedData: {e.Message}");
        }

        if (cms.SignerInfos.Count != 1)
            return new AuthenticationVerdict(false, $"SignedData has {cms.SignerInfos.Count} signers; exactly one is expected.");
        var signerInfo = cms.SignerInfos[0];
        if (signerInfo.DigestAlgorithm.Value != "2.16.840.1.101.3.4.2.1")
            return new AuthenticationVerdict(false, $"Signer digest algorithm {signerInfo.DigestAlgorithm.Value} is not SHA-256.");
        var signer = signerInfo.Certificate;
        if (signer is null)
            return new AuthenticationVerdict(false, "The signer certificate is not carried in the SignedData (edk2 finds signers only there).");
        try
        {
            signerInfo.CheckSignature(verifySignatureOnly: true);
        }
        catch (CryptographicException e)
        {
            return new AuthenticationVerdict(false, $"Signature does not verify over name, GUID, attributes 0x{(uint)attributes:X}, timestamp {authentication.TimeStamp} and payload: {e.Message}", signer);
        }

        var carried = cms.Certificates.Cast<X509Certificate2>().ToList();
        if (kind == AuthenticationAnchorKind.PlatformKey)
        {
            var top = CertificateChain.TopLevel(signer, carried);
            var pk = anchors.FirstOrDefault(a => a.RawData.AsSpan().SequenceEqual(top.RawData));
            if (pk is null)
                return new AuthenticationVerdict(false, $"Top-level signer certificate '{top.Subject}' is not the enrolled PK.", signer);
            return CertificateChain.FindAnchor(signer, carried, [pk]) is { } ok
                ? new AuthenticationVerdict(true, $"signed by the PK '{pk.Subject}'", signer, ok)
                : new AuthenticationVerdict(false, "The signer does not chain to the PK.", signer);
        }

        var anchor = CertificateChain.FindAnchor(signer, carried, anchors);
        return anchor is null
            ? new AuthenticationVerdict(false, $"Signer '{signer.Subject}' does not chain to any of the {anchors.Count} X.509 KEK entries.", signer)
            : new AuthenticationVerdict(true, $"signed by '{signer.Subject}', trusted through KEK entry '{anchor.Subject}'", signer, anchor);
    }
}
