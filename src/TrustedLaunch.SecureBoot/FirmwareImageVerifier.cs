using System.Security.Cryptography;
using TrustedLaunch.Pe.Authenticode;
using TrustedLaunch.Pe.Authenticode.Pe;
using TrustedLaunch.Pe.Authenticode.Signatures;
using TrustedLaunch.SecureBoot.Sbat;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.SecureBoot;

/// <summary>
/// Decides ALLOWED/DENIED for a boot image exactly as edk2's DxeImageVerificationHandler (SecurityPkg
/// DxeImageVerificationLib, edk2-stable202211 as shipped in Debian 12's OVMF) decides for an image loaded from disk
/// (policy DENY_EXECUTE_ON_SECURITY_VIOLATION): dbx wins, db certificates are partial-chain trust anchors, validity
/// periods and EKUs are not checked, an image hash in db admits the image.
/// </summary>
public static class FirmwareImageVerifier
{
    /// <summary>Verifies the image bytes against <paramref name="databases"/>. Never throws for malformed input.</summary>
    public static SecureBootVerdict Verify(ReadOnlyMemory<byte> file, ImageSecurityDatabases databases)
    {
        ArgumentNullException.ThrowIfNull(databases);
        var enforced = Evaluate(file, databases);
        if (databases.SecureBootEnforced)
            return enforced;

        // DxeImageVerificationHandler: "Skip verification if SecureBoot is disabled" (or absent).
        return enforced with
        {
            Allowed = true,
            Reason = VerdictReason.SecureBootNotEnforced,
            Message = "Secure Boot is not enforced by this variable store (no PK or SecureBootEnable = 0): the firmware runs any image.",
            MatchedEntry = null,
            IfEnforced = enforced,
        };
    }

    private static SecureBootVerdict Evaluate(ReadOnlyMemory<byte> file, ImageSecurityDatabases databases)
    {
        if (!PeImage.TryParse(file, out var image, out var error))
            return Denied(VerdictReason.MalformedImage, $"Not a valid PE/COFF image: {error.Message}", null, null, [], null);

        SbatMetadata? sbat = image.FindSectionData(".sbat") is { } section ? SbatMetadata.Parse(section.Span) : null;
        var digests = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        string? sha256 = CachedDigest(digests, image, HashAlgorithmName.SHA256) is { } d ? Convert.ToHexStringLower(d) : null;

        if (!image.HasCertificateTable)
            return EvaluateUnsigned(image, databases, sha256, sbat);

        var table = AttributeCertificateTable.Read(image);
        var reports = new List<SignatureReport>();
        bool verified = false;
        DatabaseEntry? admittedBy = null;
        SecureBootVerdict? stop = null;

        for (int i = 0; i < table.Entries.Count; i++)
        {
            var entry = table.Entries[i];
            var report = new SignatureReport { Index = i, Offset = entry.Offset, CertificateType = entry.CertificateType, Outcome = SignatureOutcome.Skipped };
            if (stop is not null)
            {
                reports.Add(report with { Outcome = SignatureOutcome.NotReached });
                continue;
            }

            if (!entry.IsAuthenticode)
            {
                reports.Add(report with { Detail = $"WIN_CERTIFICATE type 0x{entry.CertificateType:X4} is not a PKCS#7 signature" });
                continue;
            }

            var outcome = EvaluateSignature(image, entry, databases, verified, report, digests);
            reports.Add(outcome.Report);
            if (outcome.Report.Outcome is SignatureOutcome.TrustedByDb or SignatureOutcome.ImageHashInDb && !verified)
            {
                verified = true;
                admittedBy = outcome.Match;
            }

            if (outcome.Stop is { } reason)
            {
                verified = false;
                stop = Denied(reason, outcome.Report.Detail ?? reason.ToString(), outcome.Match, sha256, reports, sbat);
            }
        }

        if (stop is not null)
            return stop with { Signatures = reports };

        if (!table.EndsAtTableEnd)
        {
            return Denied(VerdictReason.CorruptCertificateTable,
                "The attribute certificate table is corrupt: its WIN_CERTIFICATE entries do not end exactly at the table's end.", null, sha256, reports, sbat);
        }

        if (verified)
        {
            string how = admittedBy!.Kind == EfiSignatureKind.X509
                ? $"signature chains to db certificate '{admittedBy.Subject}'"
                : $"image hash is in db";
            return new SecureBootVerdict
            {
                Allowed = true,
                Reason = admittedBy.Kind == EfiSignatureKind.X509 ? VerdictReason.SignedByDbCertificate : VerdictReason.HashInDb,
                Message = $"Allowed: {how} ({admittedBy}).",
                MatchedEntry = admittedBy,
                Sha256 = sha256,
                Signatures = reports,
                Sbat = sbat,
            };
        }

        return DeniedWithoutMatch(reports, sha256, sbat);
    }

    private static SecureBootVerdict EvaluateUnsigned(PeImage image, ImageSecurityDatabases databases, string? sha256, SbatMetadata? sbat)
    {
        // edk2-stable202211: an unsigned image is judged by its SHA-256 Authenticode hash alone.
        if (sha256 is null)
            return Denied(VerdictReason.MalformedImage, "The image cannot be hashed (its certificate table overlaps its sections).", null, null, [], sbat);
        byte[] digest = Convert.FromHexString(sha256);
        if (databases.FindDbxHash(EfiSignatureKind.Sha256, digest) is { } forbidden)
            return Denied(VerdictReason.HashInDbx, $"Unsigned image whose SHA-256 hash is in dbx ({forbidden}).", forbidden, sha256, [], sbat);
        if (databases.FindDbHash(EfiSignatureKind.Sha256, digest) is { } allowed)
        {
            return new SecureBootVerdict
            {
                Allowed = true, Reason = VerdictReason.HashInDb, Message = $"Allowed: unsigned image whose SHA-256 hash is in db ({allowed}).",
                MatchedEntry = allowed, Sha256 = sha256, Sbat = sbat,
            };
        }

        return Denied(VerdictReason.NotSigned, $"Unsigned image (no certificate table) and its SHA-256 hash {sha256} is not in db.", null, sha256, [], sbat);
    }

    private readonly record struct SignatureEvaluation(SignatureReport Report, DatabaseEntry? Match, VerdictReason? Stop);

    private static SignatureEvaluation EvaluateSignature(
        PeImage image, WinCertificate entry, ImageSecurityDatabases databases, bool alreadyVerified, SignatureReport report, Dictionary<string, byte[]?> digests)
    {
        if (AuthenticodeSignature.FirmwareDigestAlgorithmOf(entry.Pkcs7.Span) is not { } algorithm)
        {
            return new(report with { Outcome = SignatureOutcome.Skipped, Detail = "the firmware does not recognise this signature's digest algorithm (or its DER length form)" }, null, null);
        }

        byte[]? digest = CachedDigest(digests, image, algorithm);
        if (digest is null)
            return new(report with { Outcome = SignatureOutcome.HashFailed, DigestAlgorithm = algorithm.Name, Detail = "the image cannot be hashed" }, null, null);
        report = report with { DigestAlgorithm = algorithm.Name, ImageDigest = Convert.ToHexStringLower(digest) };
        var hashKind = HashKind(algorithm);

        AuthenticodeSignature? signature = null;
        string? decodeError = null;
        try
        {
            signature = AuthenticodeSignature.Decode(entry.Pkcs7);
        }
        catch (AuthenticodeException e)
        {
            decodeError = e.Message;
        }

        var check = new SignatureCheck(signature, digest, decodeError);
        report = check.Describe(report);

        // IsForbiddenByDbx: a dbx X509 verifying the signature, or a revoked certificate in the signer chain.
        if (databases.DbxPresent)
        {
            foreach (var forbidden in databases.DbxCertificates)
            {
                if (check.VerifiesWith(forbidden))
                    return new(report with { Outcome = SignatureOutcome.ForbiddenByDbx, Detail = $"Signature verifies with dbx certificate ({forbidden.Entry})." }, forbidden.Entry, VerdictReason.CertificateInDbx);
            }

            if (signature is null || check.Chain.Count == 0)
            {
                // Pkcs7GetSigners fails: edk2 cannot prove the signer is not revoked and treats the image as forbidden.
                return new(report with { Outcome = SignatureOutcome.Malformed, Detail = $"The signature cannot be read ({decodeError ?? "no signer certificate embedded"}); with a dbx present the firmware refuses it." }, null, VerdictReason.BadSignature);
            }

            foreach (var link in check.Chain)
            {
                if (databases.FindRevokedCertificate(link) is { } revoked)
                    return new(report with { Outcome = SignatureOutcome.ForbiddenByDbx, Detail = $"Certificate '{link.Subject}' of the signer chain is revoked in dbx ({revoked})." }, revoked, VerdictReason.CertificateInDbx);
            }
        }

        // IsAllowedByDb: the first db X509 that verifies the signature decides; its own TBS hash in dbx revokes it. The
        // firmware searches only until one signature has admitted the image; the search runs for every valid signature
        // here so that the report says which CA admits which signature (a dual-signed shim: one per CA generation).
        DatabaseCertificate? anchor = check.Failure is null ? databases.DbCertificates.FirstOrDefault(check.VerifiesWith) : null;
        DatabaseEntry? anchorRevoked = anchor is null ? null : databases.FindRevokedCertificate(anchor.Certificate);
        report = report with { AdmittedBy = anchorRevoked is null ? anchor?.Entry : null };

        DatabaseEntry? match = null;
        SignatureOutcome outcome;
        string? detail;
        if (check.Failure is { } failure)
        {
            (outcome, detail) = (failure, check.FailureDetail);
        }
        else if (alreadyVerified)
        {
            outcome = SignatureOutcome.NotNeeded;
            string found = anchor is null ? "chains to no db certificate"
                : anchorRevoked is not null ? $"chains to db certificate '{anchor.Entry.Subject}', which is revoked in dbx ({anchorRevoked})"
                : $"chains to db certificate ({anchor.Entry}) too";
            detail = $"Valid, {found}; the firmware does not need it: an earlier signature admitted the image.";
        }
        else if (anchor is null)
        {
            (outcome, detail) = (SignatureOutcome.NotTrusted, "The signature is valid but chains to no db certificate.");
        }
        else if (anchorRevoked is not null)
        {
            outcome = SignatureOutcome.TrustAnchorRevoked;
            detail = $"db certificate '{anchor.Entry.Subject}' verifies the signature but is revoked in dbx ({anchorRevoked}).";
        }
        else
        {
            (outcome, match) = (SignatureOutcome.TrustedByDb, anchor.Entry);
            detail = $"Signature chains to db certificate ({anchor.Entry}).";
        }

        if (databases.FindDbxHash(hashKind, digest) is { } hashForbidden)
            return new(report with { Outcome = SignatureOutcome.ImageHashInDbx, Detail = $"The image's {algorithm.Name} hash is in dbx ({hashForbidden})." }, hashForbidden, VerdictReason.HashInDbx);

        if (!alreadyVerified && outcome != SignatureOutcome.TrustedByDb && databases.FindDbHash(hashKind, digest) is { } hashAllowed)
            return new(report with { Outcome = SignatureOutcome.ImageHashInDb, Detail = $"The image's {algorithm.Name} hash is in db ({hashAllowed})." }, hashAllowed, null);

        return new(report with { Outcome = outcome, Detail = detail }, match, null);
    }

    private static SecureBootVerdict DeniedWithoutMatch(List<SignatureReport> reports, string? sha256, SbatMetadata? sbat)
    {
        var bad = reports.FirstOrDefault(r => r.Outcome is SignatureOutcome.DigestMismatch or SignatureOutcome.InvalidSignature or SignatureOutcome.Malformed);
        if (bad is not null)
            return Denied(VerdictReason.BadSignature, $"Bad signature: {bad.Detail}", null, sha256, reports, sbat);
        var revokedAnchor = reports.FirstOrDefault(r => r.Outcome == SignatureOutcome.TrustAnchorRevoked);
        if (revokedAnchor is not null)
            return Denied(VerdictReason.CertificateInDbx, revokedAnchor.Detail!, null, sha256, reports, sbat);
        if (reports.All(r => r.Outcome is SignatureOutcome.Skipped or SignatureOutcome.HashFailed))
            return Denied(VerdictReason.NoUsableSignature, "The certificate table holds no signature the firmware can verify.", null, sha256, reports, sbat);
        string signers = string.Join("; ", reports.Where(r => r.Signer is not null).Select(r => $"'{r.Signer}'"));
        return Denied(VerdictReason.SignerNotInDb, $"Signer not in db: no signature ({signers}) chains to a db certificate and the image hash is not in db.", null, sha256, reports, sbat);
    }

    private static SecureBootVerdict Denied(VerdictReason reason, string message, DatabaseEntry? entry, string? sha256, IReadOnlyList<SignatureReport> reports, SbatMetadata? sbat) => new()
    {
        Allowed = false, Reason = reason, Message = "Denied: " + message, MatchedEntry = entry, Sha256 = sha256, Signatures = reports, Sbat = sbat,
    };

    /// <summary>The image digest per algorithm, computed once: several signatures usually share SHA-256.</summary>
    private static byte[]? CachedDigest(Dictionary<string, byte[]?> digests, PeImage image, HashAlgorithmName algorithm)
    {
        if (!digests.TryGetValue(algorithm.Name!, out byte[]? digest))
            digests[algorithm.Name!] = digest = TryDigest(image, algorithm);
        return digest;
    }

    private static byte[]? TryDigest(PeImage image, HashAlgorithmName algorithm)
    {
        try
        {
            return AuthenticodeDigest.Compute(image, algorithm);
        }
        catch (AuthenticodeException)
        {
            return null;
        }
    }

    private static EfiSignatureKind HashKind(HashAlgorithmName algorithm) => algorithm.Name switch
    {
        "SHA1" => EfiSignatureKind.Sha1,
        "SHA384" => EfiSignatureKind.Sha384,
        "SHA512" => EfiSignatureKind.Sha512,
        _ => EfiSignatureKind.Sha256,
    };
}
