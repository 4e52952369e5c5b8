using System.Globalization;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation;

/// <summary>
/// Verifies one evidence bundle in the reference order (attestation.md §6): evidence well-formed → AK certificate
/// chains to the platform AK CA, names this VM and certifies the quoting key → quote (signature, magic, type, nonce,
/// PCR selection, PCR digest; clock not older than the last accepted quote's) → event-log replay in every quoted bank → appraisal of replayed events only →
/// baseline → reference policy. The first failed step decides the <see cref="AttestationFailure"/>; no step trusts
/// anything an earlier step has not verified. No I/O; the clock and the caches are the host's (<c>tl server</c> gives
/// it caches sized from its options, <c>tl attest verify</c> none). Thread-safe.
/// </summary>
public sealed class AttestationVerifier
{
    private readonly TimeProvider _time;
    private readonly VerificationCaches? _caches;
    private readonly ITpmDigest _digest;
    private readonly CertificateNames _names;

    /// <param name="time">What "now" is when the expectations give no verification time (certificate validity, quote freshness).</param>
    /// <param name="caches">What to remember between verifications; null recomputes everything every time.</param>
    public AttestationVerifier(TimeProvider time, VerificationCaches? caches = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _caches = caches;
        _digest = caches?.Digest ?? OpenSslTpmDigest.Instance;
        _names = caches?.Names ?? CertificateNames.Uncached(_digest);
    }

    /// <summary>Verifies <paramref name="evidence"/> against what the verifier expects.</summary>
    public AttestationResult Verify(AttestationEvidence evidence, AttestationExpectations expectations)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        ArgumentNullException.ThrowIfNull(expectations);
        try
        {
            EvidenceJson.Validate(evidence);
        }
        catch (EvidenceFormatException e)
        {
            return AttestationResult.Fail(AttestationFailureReason.EvidenceMalformed, e.Field, e.Message);
        }

        TpmEvidence tpm = evidence.Tpm;
        TpmtPublic ak;
        try
        {
            var reader = new TpmReader(tpm.AkPublic);
            ak = TpmtPublic.ReadSized(ref reader, out _);
            reader.ExpectEnd("TPM2B_PUBLIC");
        }
        catch (TpmFormatException e)
        {
            return AttestationResult.Fail(AttestationFailureReason.EvidenceMalformed, "$.tpm.akPublic", $"not a TPM2B_PUBLIC: {e.Message}");
        }

        // go-attestation CheckAKParameters: an AK is a restricted signing key the TPM generated and cannot export.
        const TpmaObject required = TpmaObject.Restricted | TpmaObject.Sign | TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin;
        if ((ak.ObjectAttributes & required) != required || (ak.ObjectAttributes & TpmaObject.Decrypt) != 0)
        {
            return AttestationResult.Fail(AttestationFailureReason.AkNotFromThisVm, "AK attributes",
                $"attributes 0x{(uint)ak.ObjectAttributes:X8} are not those of a restricted, TPM-bound signing key");
        }

        DateTimeOffset now = expectations.VerificationTime ?? _time.GetUtcNow();
        if (AkCertificateValidator.Validate(tpm.AkCertificate, tpm.AkPublic, ak, expectations, now, _caches?.AkChains) is { } akFailure)
            return AttestationResult.Fail(akFailure.Reason, akFailure.Component, akFailure.Message);

        // A bound key travels inside the quote: its extraData is SHA-256(nonce ‖ Name), so the key cannot be stripped or swapped.
        TpmtPublic? boundKey = null;
        byte[]? boundName = null;
        if (tpm.BoundKey is { } bound && ParseBoundKey(bound, out boundKey, out boundName) is { } boundMalformed)
            return boundMalformed;
        byte[] qualifyingData = boundName is null ? expectations.Nonce.ToArray() : BoundKeyEvidence.QuoteQualifyingData(expectations.Nonce.Span, boundName);
        QuotedPcrs? quoted = VerifyQuote(tpm, ak, qualifyingData, _caches?.AkKeys, out AttestationFailure? quoteFailure);
        if (quoted is null)
            return AttestationResult.Fail(quoteFailure!.Reason, quoteFailure.Component, quoteFailure.Message);

        // The clock is signed with the rest of the quote, so it is only read once the signature verified.
        if (QuoteFreshness.Failure(quoted.Clock, expectations, now) is string regression)
            return AttestationResult.Fail(AttestationFailureReason.QuoteInvalid, "quote: clock", regression) with { VmId = expectations.VmId };

        PcrComparison? comparison = Replay(evidence.TcgLog, quoted, out AttestationFailure? replayFailure);
        if (comparison is null)
            return AttestationResult.Fail(replayFailure!.Reason, replayFailure.Component, replayFailure.Message) with { VmId = expectations.VmId, QuoteClock = quoted.Clock };

        AttestedBootState boot = BootAppraiser.Appraise(comparison, quoted.AttestedIndices, quoted.Hex, _digest, _names);
        AttestationResult result = Appraise(evidence, expectations, boot, quoted.Clock);
        if (!result.Passed || tpm.BoundKey is null)
            return result;
        var values = quoted.Values.ToDictionary(v => (v.Bank, v.Index), v => v.Value.ToArray());
        BoundKeyFailure? refused = BoundKeyVerifier.Verify(tpm.BoundKey, boundKey!, boundName!, ak, expectations.Nonce.Span, values,
            BootAppraiser.AttestedPcrIndices, out VerifiedBoundKey? verified);
        return result with { BoundKey = verified, BoundKeyFailure = refused };
    }

    private static AttestationResult? ParseBoundKey(BoundKeyEvidence bound, out TpmtPublic? key, out byte[]? name)
    {
        key = null;
        name = null;
        try
        {
            var reader = new TpmReader(bound.Public);
            key = TpmtPublic.ReadSized(ref reader, out byte[] marshalled);
            reader.ExpectEnd("TPM2B_PUBLIC");
            if (!TpmHashAlgorithm.IsComputable(key.NameAlg))
                return AttestationResult.Fail(AttestationFailureReason.EvidenceMalformed, "$.tpm.boundKey.public", $"nameAlg {key.NameAlg} cannot name the key");
            name = TpmtPublic.ComputeName(key.NameAlg, marshalled); // Part 1 §16: nameAlg ‖ H(marshalled TPMT_PUBLIC)
            return null;
        }
        catch (TpmFormatException e)
        {
            return AttestationResult.Fail(AttestationFailureReason.EvidenceMalformed, "$.tpm.boundKey.public", $"not a TPM2B_PUBLIC: {e.Message}");
        }
    }

    private static AttestationResult Appraise(AttestationEvidence evidence, AttestationExpectations expectations, AttestedBootState boot, QuoteClock clock)
    {
        IReadOnlyList<BaselineDeviation> deviations = expectations.Baseline?.Compare(boot) ?? [];
        BaselineVerdict early = Verdict(expectations.Baseline, deviations, BootStage.Early);
        BaselineVerdict late = Verdict(expectations.Baseline, deviations, BootStage.Late);
        ReferencePolicy policy = expectations.Policy ?? ReferencePolicy.Minimum;
        IReadOnlyList<PolicyViolation> violations = policy.Evaluate(boot);

        AttestationFailure? failure = null;
        if (deviations.Count > 0)
        {
            failure = new AttestationFailure(AttestationFailureReason.BaselineDeviation,
                string.Create(CultureInfo.InvariantCulture, $"PCR {deviations[0].Pcr}"), string.Join("; ", deviations.Select(d => d.Description)));
        }
        else if (violations.Count > 0)
        {
            failure = new AttestationFailure(AttestationFailureReason.PolicyDeviation, violations[0].Component,
                $"policy '{policy.Name}': " + string.Join("; ", violations.Select(v => v.Message)));
        }

        return new AttestationResult
        {
            QuoteClock = clock,
            Passed = failure is null,
            Failure = failure,
            VmId = expectations.VmId,
            BootState = boot,
            EarlyBoot = early,
            LateBoot = late,
            Deviations = deviations,
            PolicyViolations = violations,
            PolicyName = policy.Name,
            Findings = evidence.Findings,
            Os = evidence.Os,
        };
    }

    private static BaselineVerdict Verdict(AttestationBaseline? baseline, IReadOnlyList<BaselineDeviation> deviations, BootStage stage) =>
        baseline is null ? BaselineVerdict.NotEvaluated : deviations.Any(d => d.Stage == stage) ? BaselineVerdict.Fail : BaselineVerdict.Pass;

    private static QuotedPcrs? VerifyQuote(TpmEvidence tpm, TpmtPublic ak, ReadOnlySpan<byte> nonce, VerificationKeyCache? keys, out AttestationFailure? failure)
    {
        var values = new Dictionary<(TpmAlgId Hash, int Index), byte[]>();
        foreach (PcrBankValues bank in tpm.Pcrs)
        {
            if (!EvidenceJson.TryParseBank(bank.Bank, out TpmAlgId alg))
                continue; // EvidenceJson.Validate has rejected unknown banks already
            foreach ((int index, string text) in bank.Values)
                values[(alg, index)] = Convert.FromHexString(text);
        }

        QuoteVerification verification = QuoteVerifier.Verify(ak, tpm.Quote, tpm.Signature, nonce, checkQualifyingData: true, values, keys: keys);
        if (!verification.IsValid)
        {
            failure = verification.Failure switch
            {
                QuoteFailure.MalformedAttest => new(AttestationFailureReason.EvidenceMalformed, "$.tpm.quote", verification.Detail),
                QuoteFailure.MalformedSignature => new(AttestationFailureReason.EvidenceMalformed, "$.tpm.signature", verification.Detail),
                QuoteFailure.KeySignatureMismatch or QuoteFailure.BadSignature => new(AttestationFailureReason.QuoteInvalid, "quote: signature", verification.Detail),
                QuoteFailure.NotTpmGenerated => new(AttestationFailureReason.QuoteInvalid, "quote: magic", verification.Detail),
                QuoteFailure.NotAQuote => new(AttestationFailureReason.QuoteInvalid, "quote: type", verification.Detail),
                QuoteFailure.QualifyingDataMismatch => new(AttestationFailureReason.QuoteInvalid, "quote: nonce",
                    "the quote was made for a different nonce (replayed from an earlier challenge or forged): " + verification.Detail),
                QuoteFailure.PcrValuesMissing => new(AttestationFailureReason.QuoteInvalid, "quote: PCR values", verification.Detail),
                QuoteFailure.PcrDigestMismatch => new(AttestationFailureReason.QuoteInvalid, "quote: PCR digest",
                    "the PCR values in the evidence are not the ones the TPM quoted: " + verification.Detail),
                _ => new(AttestationFailureReason.QuoteInvalid, "quote", verification.Detail),
            };
            return null;
        }

        var selection = ((TpmsQuoteInfo)verification.Attest!.Attested).PcrSelect;
        var banks = selection.Selections.Where(s => s.Indices.Count > 0).ToArray();
        foreach (TpmsPcrSelection bank in banks)
        {
            int[] missing = BootAppraiser.AttestedPcrIndices.Where(i => !bank.Indices.Contains(i)).ToArray();
            if (missing.Length > 0)
            {
                failure = new(AttestationFailureReason.QuoteInvalid, "quote: PCR selection",
                    $"the quote's {TpmHashAlgorithm.BankName(bank.Hash)} selection lacks PCR {string.Join(", ", missing)} (PCRs 0-9 and 14 are required)");
                return null;
            }
        }

        if (banks.Length == 0)
        {
            failure = new(AttestationFailureReason.QuoteInvalid, "quote: PCR selection", "the quote selects no PCR");
            return null;
        }

        // A SHA-1 bank alone would let a SHA-1 collision stand in for a measurement; every vTPM here has SHA-256.
        if (!banks.Any(b => TpmHashAlgorithm.IsComputable(b.Hash) && TpmHashAlgorithm.DigestSize(b.Hash) >= 32))
        {
            failure = new(AttestationFailureReason.QuoteInvalid, "quote: PCR selection",
                $"the quote covers only the {string.Join(", ", banks.Select(b => TpmHashAlgorithm.BankName(b.Hash) ?? b.Hash.ToString()))} bank; at least one bank of SHA-256 or stronger is required");
            return null;
        }

        var quotedValues = new List<PcrValue>();
        var hex = new Dictionary<string, IReadOnlyDictionary<int, string>>(StringComparer.Ordinal);
        foreach (TpmsPcrSelection bank in banks)
        {
            string name = TpmHashAlgorithm.BankName(bank.Hash) ?? bank.Hash.ToString();
            var bankHex = new SortedDictionary<int, string>();
            foreach (int index in bank.Indices)
            {
                byte[] value = values[(bank.Hash, index)];
                quotedValues.Add(new PcrValue(bank.Hash, index, value));
                bankHex[index] = Convert.ToHexStringLower(value);
            }

            hex[name] = bankHex;
        }

        int[] common = banks.Select(b => (IEnumerable<int>)b.Indices).Aggregate((a, b) => a.Intersect(b)).Order().ToArray();
        failure = null;
        return new QuotedPcrs(quotedValues, hex, common, QuoteClock.From(verification.Attest.ClockInfo));
    }

    private PcrComparison? Replay(byte[]? tcgLog, QuotedPcrs quoted, out AttestationFailure? failure)
    {
        if (tcgLog is null || tcgLog.Length == 0)
        {
            failure = new(AttestationFailureReason.EventLogDoesNotReplay, "event log",
                "the evidence carries no TCG event log, so the quoted PCRs cannot be explained or appraised");
            return null;
        }

        // A VM re-attesting within one boot sends the same log every time, and VMs of one image and template send the
        // same log: the parse and replay of identical bytes are identical (the cache compares them in full).
        if (_caches is null || !_caches.Replays.TryGet(0, tcgLog, out EventLogReplay? replay))
        {
            TcgEventLog log;
            try
            {
                log = TcgEventLog.Parse(tcgLog);
            }
            catch (TcgEventLogFormatException e)
            {
                failure = new(AttestationFailureReason.EvidenceMalformed, "$.tcgLog", e.Message);
                return null;
            }

            replay = EventLogReplay.Replay(log, _digest);
            _caches?.Replays.Add(0, tcgLog, replay);
        }

        PcrComparison comparison = replay!.CompareWith(quoted.Values);
        foreach (PcrCheck check in comparison.Checks)
        {
            string component = string.Create(CultureInfo.InvariantCulture, $"PCR {check.Index} ({check.BankName})");
            switch (check.Verdict)
            {
                case PcrVerdict.Match:
                case PcrVerdict.MissingExitBootServices:
                    break;
                case PcrVerdict.Mismatch:
                    failure = new(AttestationFailureReason.EventLogDoesNotReplay, component,
                        $"replaying the log's {check.EventCount} events gives {Convert.ToHexStringLower(check.Replayed.Span)}, the quote says {Convert.ToHexStringLower(check.Expected.Span)}");
                    return null;
                case PcrVerdict.NotCovered when check.ExpectedIsResetValue:
                    break;
                case PcrVerdict.NotCovered:
                    failure = new(AttestationFailureReason.EventLogDoesNotReplay, component,
                        $"the quote says {Convert.ToHexStringLower(check.Expected.Span)} but the log cannot reproduce it ({check.Detail ?? "no events"})");
                    return null;
                default:
                    failure = new(AttestationFailureReason.EventLogDoesNotReplay, component, $"unknown replay verdict {check.Verdict}");
                    return null;
            }
        }

        failure = null;
        return comparison;
    }

    private sealed record QuotedPcrs(IReadOnlyList<PcrValue> Values, IReadOnlyDictionary<string, IReadOnlyDictionary<int, string>> Hex,
        IReadOnlyList<int> AttestedIndices, QuoteClock Clock);
}
