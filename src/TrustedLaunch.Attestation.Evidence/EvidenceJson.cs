using System.Globalization;
using System.Text.Json;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation.Evidence;

/// <summary>
/// Reads and writes <see cref="AttestationEvidence"/> as UTF-8 JSON. <see cref="Parse"/> treats its input as hostile:
/// size-bounded, every field checked for presence, encoding and length, errors typed as <see cref="EvidenceFormatException"/>.
/// </summary>
public static class EvidenceJson
{
    /// <summary>Largest document accepted; equal to the guest channel's frame limit.</summary>
    public const int MaxDocumentBytes = 16 * 1024 * 1024;

    /// <summary>Largest TCG or IMA log accepted (decoded).</summary>
    public const int MaxLogBytes = 8 * 1024 * 1024;

    /// <summary>Smallest nonce accepted; shorter challenges can be guessed.</summary>
    public const int MinNonceBytes = 8;

    /// <summary>Largest nonce: a <c>TPM2B_DATA</c> holds at most one SHA-512 digest (TPM 2.0 Part 2 §10.4.3).</summary>
    public const int MaxNonceBytes = 64;

    private const int MaxAkPublicBytes = 1024;
    private const int MaxCertificateBytes = 16 * 1024;
    private const int MaxQuoteBytes = 2048;
    private const int MaxSignatureBytes = 1024;
    private const int MaxFindings = 4096;
    private const int MaxTextLength = 8192;

    // TPM 2.0 Part 2 §11.1.3: IMPLEMENTATION_PCR is 24 on every PC Client TPM.
    private const int PcrCount = 24;

    /// <summary>Serializes <paramref name="evidence"/> to UTF-8 JSON.</summary>
    public static byte[] Serialize(AttestationEvidence evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        return JsonSerializer.SerializeToUtf8Bytes(evidence, EvidenceJsonContext.Default.AttestationEvidence);
    }

    /// <summary>Parses and validates a bundle; throws <see cref="EvidenceFormatException"/> naming the bad field.</summary>
    public static AttestationEvidence Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxDocumentBytes)
        {
            throw new EvidenceFormatException("$", $"document of {utf8Json.Length} bytes exceeds the {MaxDocumentBytes}-byte limit");
        }

        AttestationEvidence? evidence;
        try
        {
            evidence = JsonSerializer.Deserialize(utf8Json, EvidenceJsonContext.Default.AttestationEvidence);
        }
        catch (JsonException e)
        {
            throw new EvidenceFormatException(string.IsNullOrEmpty(e.Path) ? "$" : e.Path, e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json reports some malformed shapes (e.g. a duplicate dictionary key) this way.
            throw new EvidenceFormatException("$", e.Message, e);
        }

        if (evidence is null)
        {
            throw new EvidenceFormatException("$", "document is JSON null");
        }

        Validate(evidence);
        return evidence;
    }

    /// <summary>Like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, out AttestationEvidence? evidence, out EvidenceFormatException? error)
    {
        try
        {
            evidence = Parse(utf8Json);
            error = null;
            return true;
        }
        catch (EvidenceFormatException e)
        {
            evidence = null;
            error = e;
            return false;
        }
    }

    /// <summary>Checks the semantic constraints JSON binding cannot express; throws <see cref="EvidenceFormatException"/>.</summary>
    public static void Validate(AttestationEvidence evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        if (evidence.Version != AttestationEvidence.CurrentVersion)
        {
            throw new EvidenceFormatException("$.version", $"version {evidence.Version} is not supported (expected {AttestationEvidence.CurrentVersion})");
        }

        RequireLength("$.nonce", evidence.Nonce, MinNonceBytes, MaxNonceBytes);
        TpmEvidence tpm = evidence.Tpm ?? throw new EvidenceFormatException("$.tpm", "missing");
        RequireLength("$.tpm.akPublic", tpm.AkPublic, 4, MaxAkPublicBytes);

        // TPM 2.0 Part 2 §12.2.5: TPM2B_PUBLIC = UINT16 size, then that many bytes of TPMT_PUBLIC.
        int declared = (tpm.AkPublic[0] << 8) | tpm.AkPublic[1];
        if (declared != tpm.AkPublic.Length - sizeof(ushort))
        {
            throw new EvidenceFormatException("$.tpm.akPublic", $"TPM2B size field says {declared} bytes but {tpm.AkPublic.Length - sizeof(ushort)} follow");
        }

        RequireLength("$.tpm.akCertificate", tpm.AkCertificate, 1, MaxCertificateBytes);
        RequireLength("$.tpm.quote", tpm.Quote, 1, MaxQuoteBytes);
        RequireLength("$.tpm.signature", tpm.Signature, 1, MaxSignatureBytes);
        ValidatePcrs(tpm.Pcrs);
        if (tpm.BoundKey is not null)
        {
            ValidateBoundKey(tpm.BoundKey);
        }

        if (evidence.TcgLog is { Length: > MaxLogBytes })
        {
            throw new EvidenceFormatException("$.tcgLog", $"{evidence.TcgLog.Length} bytes exceeds the {MaxLogBytes}-byte limit");
        }

        if (evidence.ImaLog is { Length: > MaxLogBytes })
        {
            throw new EvidenceFormatException("$.imaLog", $"{evidence.ImaLog.Length} bytes exceeds the {MaxLogBytes}-byte limit");
        }

        ValidateFindings(evidence.Findings);
        AgentInfo agent = evidence.Agent ?? throw new EvidenceFormatException("$.agent", "missing");
        RequireText("$.agent.version", agent.Version);
    }

    private static void ValidatePcrs(IReadOnlyList<PcrBankValues>? banks)
    {
        if (banks is null || banks.Count == 0)
        {
            throw new EvidenceFormatException("$.tpm.pcrs", "no PCR bank");
        }

        var seen = new HashSet<TpmAlgId>();
        for (int b = 0; b < banks.Count; b++)
        {
            string path = string.Create(CultureInfo.InvariantCulture, $"$.tpm.pcrs[{b}]");
            PcrBankValues bank = banks[b] ?? throw new EvidenceFormatException(path, "null bank");
            if (bank.Bank is null || !TryParseBank(bank.Bank, out TpmAlgId alg))
            {
                throw new EvidenceFormatException(path + ".bank", $"'{bank.Bank}' is not one of sha1, sha256, sha384, sha512");
            }

            if (!seen.Add(alg))
            {
                throw new EvidenceFormatException(path + ".bank", $"bank {bank.Bank} appears twice");
            }

            if (bank.Values is null || bank.Values.Count == 0)
            {
                throw new EvidenceFormatException(path + ".values", "no PCR value");
            }

            int hexLength = TpmHashAlgorithm.DigestSize(alg) * 2;
            foreach ((int index, string value) in bank.Values)
            {
                // The path is formatted only for an error: valid evidence is the hot path of every attestation.
                if (index is < 0 or >= PcrCount)
                {
                    throw new EvidenceFormatException(ValuePath(path, index), $"PCR index {index} is outside 0-{PcrCount - 1}");
                }

                if (value is null || value.Length != hexLength)
                {
                    throw new EvidenceFormatException(ValuePath(path, index), $"expected {hexLength} hex digits for {bank.Bank}, got {value?.Length ?? 0}");
                }

                int bad = value.AsSpan().IndexOfAnyExcept(LowercaseHexDigits);
                if (bad >= 0)
                {
                    throw new EvidenceFormatException(ValuePath(path, index), $"'{value[bad]}' is not a lowercase hex digit");
                }
            }
        }
    }

    private static void ValidateBoundKey(BoundKeyEvidence key)
    {
        RequireLength("$.tpm.boundKey.public", key.Public, 4, MaxAkPublicBytes);
        int declared = (key.Public[0] << 8) | key.Public[1]; // TPM 2.0 Part 2 §12.2.5: TPM2B_PUBLIC
        if (declared != key.Public.Length - sizeof(ushort))
        {
            throw new EvidenceFormatException("$.tpm.boundKey.public", $"TPM2B size field says {declared} bytes but {key.Public.Length - sizeof(ushort)} follow");
        }

        RequireLength("$.tpm.boundKey.certifyInfo", key.CertifyInfo, 1, MaxQuoteBytes);
        RequireLength("$.tpm.boundKey.signature", key.Signature, 1, MaxSignatureBytes);
        if (key.PolicyBank is null || !TryParseBank(key.PolicyBank, out _))
        {
            throw new EvidenceFormatException("$.tpm.boundKey.policyBank", $"'{key.PolicyBank}' is not one of sha1, sha256, sha384, sha512");
        }

        if (key.PolicyPcrs is null || key.PolicyPcrs.Count == 0 || key.PolicyPcrs.Count > PcrCount)
        {
            throw new EvidenceFormatException("$.tpm.boundKey.policyPcrs", $"expected 1-{PcrCount} PCR indices");
        }

        if (key.PolicyPcrs.Any(i => i is < 0 or >= PcrCount) || key.PolicyPcrs.Distinct().Count() != key.PolicyPcrs.Count)
        {
            throw new EvidenceFormatException("$.tpm.boundKey.policyPcrs", $"indices must be distinct and within 0-{PcrCount - 1}");
        }
    }

    private static readonly System.Buffers.SearchValues<char> LowercaseHexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    private static string ValuePath(string bankPath, int index) => string.Create(CultureInfo.InvariantCulture, $"{bankPath}.values.{index}");

    private static void ValidateFindings(IReadOnlyList<GuestFinding>? findings)
    {
        if (findings is null)
        {
            throw new EvidenceFormatException("$.findings", "missing");
        }

        if (findings.Count > MaxFindings)
        {
            throw new EvidenceFormatException("$.findings", $"{findings.Count} findings exceeds the limit of {MaxFindings}");
        }

        for (int i = 0; i < findings.Count; i++)
        {
            string path = string.Create(CultureInfo.InvariantCulture, $"$.findings[{i}]");
            GuestFinding finding = findings[i] ?? throw new EvidenceFormatException(path, "null finding");
            RequireText(path + ".kind", finding.Kind);
            if (finding.Message is null || finding.Message.Length > MaxTextLength)
            {
                throw new EvidenceFormatException(path + ".message", "missing or longer than " + MaxTextLength.ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>Maps an evidence bank name (exactly <c>sha1</c>, <c>sha256</c>, <c>sha384</c>, <c>sha512</c>) to its algorithm.</summary>
    public static bool TryParseBank(string bank, out TpmAlgId alg)
    {
        alg = bank switch
        {
            "sha1" => TpmAlgId.Sha1,
            "sha256" => TpmAlgId.Sha256,
            "sha384" => TpmAlgId.Sha384,
            "sha512" => TpmAlgId.Sha512,
            _ => default,
        };
        return alg != default;
    }

    private static void RequireLength(string field, byte[]? value, int min, int max)
    {
        if (value is null)
        {
            throw new EvidenceFormatException(field, "missing");
        }

        if (value.Length < min || value.Length > max)
        {
            throw new EvidenceFormatException(field, $"length {value.Length} bytes is outside {min}-{max}");
        }
    }

    private static void RequireText(string field, string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxTextLength)
        {
            throw new EvidenceFormatException(field, "missing, empty or too long");
        }
    }
}
