using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Pe.Authenticode.Signatures;

namespace TrustedLaunch.SecureBoot;

/// <summary>
/// edk2 AuthenticodeVerify for one signature against successive trust anchors: the digest comparison and the signer
/// signature check do not depend on the anchor, so they run once; only the chain walk runs per anchor.
/// </summary>
internal sealed class SignatureCheck
{
    private readonly AuthenticodeSignature? _signature;

    public SignatureCheck(AuthenticodeSignature? signature, byte[] imageDigest, string? decodeError)
    {
        _signature = signature;
        if (signature is null)
        {
            Failure = SignatureOutcome.Malformed;
            FailureDetail = $"the PKCS#7 signature does not parse: {decodeError}";
            return;
        }

        Signer = signature.Signers.FirstOrDefault(s => s is not null);
        Chain = Signer is null ? [] : signature.SignerChain(Signer);
        if (!signature.MatchesImageDigest(imageDigest))
        {
            Failure = SignatureOutcome.DigestMismatch;
            FailureDetail = $"the image digest {Convert.ToHexStringLower(imageDigest)} differs from the signed digest {Convert.ToHexStringLower(signature.SignedDigest.Span)}: the image was modified after signing";
        }
        else if (!signature.TryVerifySignerSignatures(out string? error))
        {
            Failure = SignatureOutcome.InvalidSignature;
            FailureDetail = error;
        }
    }

    public X509Certificate2? Signer { get; }

    /// <summary>The signer and its embedded issuers (edk2 Pkcs7GetSigners); empty when the signer is not embedded.</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; } = [];

    /// <summary>Why the signature cannot verify against any anchor, or null when only the anchor decides.</summary>
    public SignatureOutcome? Failure { get; }

    public string? FailureDetail { get; }

    public bool VerifiesWith(DatabaseCertificate anchor) => Failure is null && _signature!.ChainsTo(anchor.Certificate);

    public SignatureReport Describe(SignatureReport report) => report with
    {
        SignedDigest = _signature is null ? null : Convert.ToHexStringLower(_signature.SignedDigest.Span),
        Signer = Signer?.Subject,
        Chain = [.. Chain.Select(c => c.Subject)],
    };
}
