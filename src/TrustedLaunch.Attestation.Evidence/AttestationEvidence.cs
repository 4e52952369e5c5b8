namespace TrustedLaunch.Attestation.Evidence;

/// <summary>
/// One evidence bundle: what a guest sends for one attestation challenge. Everything in it is a claim until
/// the verifier has checked it; <see cref="VmId"/>, <see cref="Os"/> and <see cref="Findings"/> stay informative
/// (not covered by the quote).
/// </summary>
public sealed record AttestationEvidence
{
    /// <summary>The only schema version this library writes and reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Schema version; must be <see cref="CurrentVersion"/>.</summary>
    public required int Version { get; init; }

    /// <summary>The guest's SMBIOS product UUID, as the guest saw it. Informative only: identity comes from the AK certificate.</summary>
    public string? VmId { get; init; }

    /// <summary>The verifier's challenge, echoed; the quote's extraData must equal it.</summary>
    public required byte[] Nonce { get; init; }

    /// <summary>Quote, signing key and PCR values.</summary>
    public required TpmEvidence Tpm { get; init; }

    /// <summary>The firmware TCG event log (binary_bios_measurements), crypto-agile format.</summary>
    public byte[]? TcgLog { get; init; }

    /// <summary>The IMA runtime measurement log (binary), when the guest has one.</summary>
    public byte[]? ImaLog { get; init; }

    /// <summary>What the guest reports about its OS (<c>/etc/os-release</c>, uname, <c>/proc/cmdline</c>).</summary>
    public OsIdentity? Os { get; init; }

    /// <summary>Kernel-log findings the agent collected since the last report.</summary>
    public required IReadOnlyList<GuestFinding> Findings { get; init; }

    /// <summary>Which agent collected the bundle and when.</summary>
    public required AgentInfo Agent { get; init; }
}

/// <summary>The TPM part of the evidence: one quote over every active bank, with the key and certificate that made it.</summary>
public sealed record TpmEvidence
{
    /// <summary><c>TPM2B_PUBLIC</c> of the AK as TPM2_ReadPublic returns it, including the UINT16 size (TPM 2.0 Part 2 §12.2.5).</summary>
    public required byte[] AkPublic { get; init; }

    /// <summary>The AK certificate (DER) from NV index 0x01C101D0.</summary>
    public required byte[] AkCertificate { get; init; }

    /// <summary>The <c>TPMS_ATTEST</c> bytes (the body of the quote's <c>TPM2B_ATTEST</c>, TPM 2.0 Part 2 §10.12.12).</summary>
    public required byte[] Quote { get; init; }

    /// <summary>The <c>TPMT_SIGNATURE</c> over <see cref="Quote"/> (TPM 2.0 Part 2 §11.3.4).</summary>
    public required byte[] Signature { get; init; }

    /// <summary>The PCR values the quote covers, per bank.</summary>
    public required IReadOnlyList<PcrBankValues> Pcrs { get; init; }

    /// <summary>
    /// A decryption key in the same TPM that the token is to be encrypted to (docs/attestation.md, "Tokens bound to the
    /// vTPM"); null asks for a plain signed token. When present, the quote's extraData is
    /// <see cref="BoundKeyEvidence.QuoteQualifyingData"/>, not the bare nonce.
    /// </summary>
    public BoundKeyEvidence? BoundKey { get; init; }
}

/// <summary>
/// The key a bound token is encrypted to: its public area, the AK's TPM2_Certify of it over the nonce, and the PCRs
/// whose values its PolicyPCR authPolicy requires.
/// </summary>
public sealed record BoundKeyEvidence
{
    /// <summary><c>TPM2B_PUBLIC</c> of the key, including the UINT16 size (TPM 2.0 Part 2 §12.2.5).</summary>
    public required byte[] Public { get; init; }

    /// <summary>The <c>TPMS_ATTEST</c> of TPM2_Certify (TPM 2.0 Part 3 §18.2) by the AK, qualifyingData = the nonce.</summary>
    public required byte[] CertifyInfo { get; init; }

    /// <summary>The AK's <c>TPMT_SIGNATURE</c> over <see cref="CertifyInfo"/>.</summary>
    public required byte[] Signature { get; init; }

    /// <summary>The bank of the key's PolicyPCR selection (<c>sha256</c>, …).</summary>
    public required string PolicyBank { get; init; }

    /// <summary>The PCR indices of the key's PolicyPCR selection.</summary>
    public required IReadOnlyList<int> PolicyPcrs { get; init; }

    /// <summary>
    /// The quote's qualifyingData with a bound key: SHA-256(nonce ‖ Name of the key), so the key cannot be removed from,
    /// or swapped into, a copy of the evidence without breaking the quote. <paramref name="name"/> is nameAlg ‖ H(public area).
    /// </summary>
    public static byte[] QuoteQualifyingData(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> name)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(nonce);
        hash.AppendData(name);
        return hash.GetHashAndReset();
    }
}

/// <summary>PCR values of one bank.</summary>
public sealed record PcrBankValues
{
    /// <summary>Bank name: <c>sha1</c>, <c>sha256</c>, <c>sha384</c> or <c>sha512</c>.</summary>
    public required string Bank { get; init; }

    /// <summary>PCR index to its value as lowercase hex.</summary>
    public required IReadOnlyDictionary<int, string> Values { get; init; }
}

/// <summary>The guest OS as the guest describes itself (not measured; used for claims like <c>x-ms-azurevm-osdistro</c>).</summary>
public sealed record OsIdentity
{
    /// <summary><c>ID</c> from os-release (<c>debian</c>).</summary>
    public string? Id { get; init; }

    /// <summary><c>VERSION_ID</c> from os-release (<c>12</c>).</summary>
    public string? VersionId { get; init; }

    /// <summary><c>PRETTY_NAME</c> from os-release.</summary>
    public string? PrettyName { get; init; }

    /// <summary><c>uname -r</c>.</summary>
    public string? KernelRelease { get; init; }

    /// <summary><c>/proc/cmdline</c> as the running kernel reports it.</summary>
    public string? KernelCommandLine { get; init; }
}

/// <summary>One kernel-log observation the agent reports (a refused or tainting module, lockdown, taint flags).</summary>
public sealed record GuestFinding
{
    /// <summary>Finding kinds the agent emits.</summary>
    public static class Kinds
    {
        /// <summary>A module load refused for a missing or bad signature.</summary>
        public const string ModuleRejected = "module-rejected";

        /// <summary>An unsigned or badly signed module loaded and tainted the kernel.</summary>
        public const string ModuleUnsignedLoaded = "module-unsigned-loaded";

        /// <summary>A kernel lockdown message.</summary>
        public const string Lockdown = "lockdown";

        /// <summary>Kernel taint flags are set.</summary>
        public const string Taint = "taint";
    }

    /// <summary>One of <see cref="Kinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The module concerned, when there is one.</summary>
    public string? Module { get; init; }

    /// <summary>The kernel log line or a description.</summary>
    public required string Message { get; init; }

    /// <summary>When the agent saw it.</summary>
    public required DateTimeOffset At { get; init; }
}

/// <summary>The agent that collected the evidence.</summary>
public sealed record AgentInfo
{
    /// <summary>Agent version string.</summary>
    public required string Version { get; init; }

    /// <summary>When the bundle was assembled (guest clock).</summary>
    public required DateTimeOffset CollectedAt { get; init; }
}
