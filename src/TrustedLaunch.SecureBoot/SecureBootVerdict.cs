namespace TrustedLaunch.SecureBoot;

/// <summary>Why the firmware allows or refuses an image.</summary>
public enum VerdictReason
{
    /// <summary>Allowed: a signature verifies with a db certificate as trust anchor.</summary>
    SignedByDbCertificate,

    /// <summary>Allowed: the image's Authenticode hash is a db entry.</summary>
    HashInDb,

    /// <summary>Allowed without any check: Secure Boot is not enforced (setup mode, or SecureBootEnable = 0).</summary>
    SecureBootNotEnforced,

    /// <summary>Denied: no certificate table, and the SHA-256 image hash is not in db.</summary>
    NotSigned,

    /// <summary>Denied: the signatures verify but none chains to a db certificate, and the hash is not in db.</summary>
    SignerNotInDb,

    /// <summary>Denied: the image hash is in dbx.</summary>
    HashInDbx,

    /// <summary>Denied: a dbx certificate verifies the signature, or a certificate of the signer chain is revoked in dbx.</summary>
    CertificateInDbx,

    /// <summary>Denied: the signature does not verify, or the image was modified after signing (digest mismatch).</summary>
    BadSignature,

    /// <summary>Denied: the certificate table holds nothing the firmware can verify (unknown types or digest algorithms).</summary>
    NoUsableSignature,

    /// <summary>Denied: the attribute certificate table's entries do not end exactly at its end.</summary>
    CorruptCertificateTable,

    /// <summary>Denied: the PE/COFF image is malformed.</summary>
    MalformedImage,
}

/// <summary>What the firmware made of one WIN_CERTIFICATE.</summary>
public enum SignatureOutcome
{
    /// <summary>Not a PKCS#7 the firmware reads, or an unrecognised digest algorithm: ignored.</summary>
    Skipped,

    /// <summary>The image could not be hashed for this signature: ignored.</summary>
    HashFailed,

    /// <summary>The PKCS#7 does not parse.</summary>
    Malformed,

    /// <summary>The signed digest differs from the image's digest.</summary>
    DigestMismatch,

    /// <summary>The signer's signature does not verify.</summary>
    InvalidSignature,

    /// <summary>Valid, but chains to no db certificate.</summary>
    NotTrusted,

    /// <summary>Valid and chains to a db certificate.</summary>
    TrustedByDb,

    /// <summary>A db certificate verifies it, but that certificate is revoked by hash in dbx.</summary>
    TrustAnchorRevoked,

    /// <summary>Forbidden by dbx (certificate or chain hash).</summary>
    ForbiddenByDbx,

    /// <summary>The image hash for this signature's algorithm is in dbx.</summary>
    ImageHashInDbx,

    /// <summary>Not trusted by certificate, but the image hash for this algorithm is in db.</summary>
    ImageHashInDb,

    /// <summary>Not looked at: an earlier signature already ended the verification.</summary>
    NotReached,

    /// <summary>
    /// Valid, but an earlier signature had already admitted the image: the firmware checked this one against dbx only
    /// (<see cref="SignatureReport.AdmittedBy"/> still names the db CA that would admit it on its own).
    /// </summary>
    NotNeeded,
}

/// <summary>One signature of the image as the firmware evaluated it.</summary>
public sealed record SignatureReport
{
    public required int Index { get; init; }

    public required int Offset { get; init; }

    public required ushort CertificateType { get; init; }

    /// <summary>Digest algorithm the firmware used for this signature ("SHA256"), or null when it skipped it.</summary>
    public string? DigestAlgorithm { get; init; }

    /// <summary>The image digest computed for this signature, lower-case hex.</summary>
    public string? ImageDigest { get; init; }

    /// <summary>The digest the signer signed, lower-case hex.</summary>
    public string? SignedDigest { get; init; }

    public string? Signer { get; init; }

    /// <summary>Subjects of the signer chain found among the embedded certificates, signer first.</summary>
    public IReadOnlyList<string> Chain { get; init; } = [];

    public required SignatureOutcome Outcome { get; init; }

    /// <summary>
    /// The db certificate that admits this signature on its own: the first db X.509 entry it chains to, as edk2's
    /// IsAllowedByDb searches, unless that entry is revoked in dbx. Looked up for every valid signature, also one the
    /// firmware did not need (<see cref="SignatureOutcome.NotNeeded"/>), so that each signature of a dual-signed
    /// boot loader names its CA. Null when no db certificate admits it, or when the signature was not evaluated.
    /// </summary>
    public DatabaseEntry? AdmittedBy { get; init; }

    public string? Detail { get; init; }
}

/// <summary>The firmware's decision on one image, with the reason and the database entry that decided it.</summary>
public sealed record SecureBootVerdict
{
    public required bool Allowed { get; init; }

    public required VerdictReason Reason { get; init; }

    /// <summary>One sentence a person can act on.</summary>
    public required string Message { get; init; }

    /// <summary>The db entry that admitted the image, or the dbx entry that refused it.</summary>
    public DatabaseEntry? MatchedEntry { get; init; }

    /// <summary>Authenticode SHA-256 of the image as edk2 computes it (null when the image could not be hashed).</summary>
    public string? Sha256 { get; init; }

    public IReadOnlyList<SignatureReport> Signatures { get; init; } = [];

    /// <summary>The shim SBAT metadata of the image's .sbat section, or null when it has none.</summary>
    public Sbat.SbatMetadata? Sbat { get; init; }

    /// <summary>When Secure Boot is not enforced: the verdict the image would get if it were.</summary>
    public SecureBootVerdict? IfEnforced { get; init; }

    public string Verdict => Allowed ? "ALLOWED" : "DENIED";
}
