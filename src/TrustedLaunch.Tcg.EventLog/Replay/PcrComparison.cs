using System.Text;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>How one given PCR value relates to the log's replay.</summary>
public enum PcrVerdict
{
    /// <summary>The replayed value equals the given value.</summary>
    Match,

    /// <summary>The log covers this PCR in this bank, and its replay differs from the given value.</summary>
    Mismatch,

    /// <summary>The log has no events for this PCR in this bank (or lacks the bank, or some events lack its digest): nothing to compare.</summary>
    NotCovered,

    /// <summary>
    /// The firmware did not log its ExitBootServices EV_EFI_ACTION events; replaying the log plus the standard
    /// "Exit Boot Services Invocation" / "… Returned with Success|Failure" events reproduces the given PCR5.
    /// </summary>
    MissingExitBootServices,
}

/// <summary>The verdict for one given PCR value.</summary>
public sealed record PcrCheck(TpmAlgId Bank, int Index, PcrVerdict Verdict, ReadOnlyMemory<byte> Expected, ReadOnlyMemory<byte> Replayed, int EventCount, string? Detail)
{
    public string BankName => TpmHashAlgorithm.BankName(Bank) ?? $"0x{(ushort)Bank:X4}";

    /// <summary>For <see cref="PcrVerdict.NotCovered"/>: the given value is the reset value (zeros, or ones for PCR 17-22).</summary>
    public bool ExpectedIsResetValue => IsResetValue(Index, Expected.Span);

    internal static bool IsResetValue(int index, ReadOnlySpan<byte> value) =>
        index is >= 17 and <= 22 ? value.IndexOfAnyExcept((byte)0xFF) < 0 : value.IndexOfAnyExcept((byte)0) < 0;
}

/// <summary>
/// The result of comparing a replay with given PCR values (a TPM quote's, or published ones). It answers, per
/// event, whether the event's digest is part of a PCR value that matched: the attestation appraisal must use
/// only such events (their type and data are not covered by any digest).
/// </summary>
public sealed class PcrComparison
{
    private readonly PcrCheck[] _checks;

    // Bit n of _matched[bankIndex]: PCR n matched (or matched with the ExitBootServices events appended).
    private readonly Dictionary<TpmAlgId, uint> _matched;

    private PcrComparison(EventLogReplay replay, PcrCheck[] checks, Dictionary<TpmAlgId, uint> matched, bool pcrValuesGiven)
    {
        Replay = replay;
        _checks = checks;
        _matched = matched;
        PcrValuesGiven = pcrValuesGiven;
    }

    public EventLogReplay Replay { get; }

    /// <summary>False for <see cref="SelfConsistent"/>: no external PCR values were compared.</summary>
    public bool PcrValuesGiven { get; }

    public IReadOnlyList<PcrCheck> Checks => _checks;

    public IEnumerable<PcrCheck> Mismatches => _checks.Where(c => c.Verdict == PcrVerdict.Mismatch);

    public IEnumerable<PcrCheck> NotCovered => _checks.Where(c => c.Verdict == PcrVerdict.NotCovered);

    /// <summary>True when no given PCR mismatches (not-covered and missing-ExitBootServices PCRs do not fail).</summary>
    public bool Passed => !_checks.Any(c => c.Verdict == PcrVerdict.Mismatch);

    /// <summary>True when some PCR matched only with the standard ExitBootServices events appended.</summary>
    public bool ExitBootServicesEventsMissing => _checks.Any(c => c.Verdict == PcrVerdict.MissingExitBootServices);

    /// <summary>True when <paramref name="pcr"/> in <paramref name="bank"/> matched a given value.</summary>
    public bool IsPcrVerified(TpmAlgId bank, uint pcr) =>
        pcr < TcgEventLog.PcrCount && _matched.TryGetValue(bank, out uint mask) && (mask & (1u << (int)pcr)) != 0;

    /// <summary>
    /// The strongest bank in which <paramref name="ev"/>'s digest is part of a matched PCR value, or null when
    /// the event did not replay (not extended, its PCR mismatched or was not given, or it lacks that bank's digest).
    /// </summary>
    public TpmAlgId? ReplayedBank(TcgEvent ev)
    {
        ArgumentNullException.ThrowIfNull(ev);
        if (!ev.IsExtended)
            return null;
        TpmAlgId? best = null;
        foreach (var digest in ev.Digests)
        {
            if (IsPcrVerified(digest.Algorithm, ev.PcrIndex) && (best is null || Strength(digest.Algorithm) > Strength(best.Value)))
                best = digest.Algorithm;
        }

        return best;
    }

    /// <summary>The strongest bank in which <paramref name="pcr"/> matched, or null.</summary>
    public TpmAlgId? VerifiedBank(uint pcr)
    {
        TpmAlgId? best = null;
        foreach (var (bank, mask) in _matched)
        {
            if (pcr < TcgEventLog.PcrCount && (mask & (1u << (int)pcr)) != 0 && (best is null || Strength(bank) > Strength(best.Value)))
                best = bank;
        }

        return best;
    }

    internal static int Strength(TpmAlgId alg) => alg switch
    {
        TpmAlgId.Sha1 => 1,
        TpmAlgId.Sha256 or TpmAlgId.Sm3_256 or TpmAlgId.Sha3_256 => 2,
        TpmAlgId.Sha384 or TpmAlgId.Sha3_384 => 3,
        TpmAlgId.Sha512 or TpmAlgId.Sha3_512 => 4,
        _ => 0,
    };

    /// <summary>
    /// Treats the log's own replay as the PCR values: every covered PCR "matches". Use only when no TPM values
    /// exist (offline inspection); <see cref="PcrValuesGiven"/> is then false and the summary says so.
    /// </summary>
    public static PcrComparison SelfConsistent(EventLogReplay replay)
    {
        ArgumentNullException.ThrowIfNull(replay);
        var matched = new Dictionary<TpmAlgId, uint>();
        foreach (var bank in replay.Banks)
        {
            uint mask = 0;
            for (int pcr = 0; pcr < TcgEventLog.PcrCount; pcr++)
            {
                if (bank.IsCovered(pcr))
                    mask |= 1u << pcr;
            }

            matched[bank.Algorithm] = mask;
        }

        return new PcrComparison(replay, [], matched, pcrValuesGiven: false);
    }

    internal static PcrComparison Create(EventLogReplay replay, IEnumerable<PcrValue> expected)
    {
        var checks = new List<PcrCheck>();
        var matched = new Dictionary<TpmAlgId, uint>();
        foreach (var value in expected.OrderBy(v => Strength(v.Bank)).ThenBy(v => v.Bank).ThenBy(v => v.Index))
        {
            if (value.Index is < 0 or >= TcgEventLog.PcrCount)
                throw new ArgumentOutOfRangeException(nameof(expected), $"PCR index {value.Index} is not 0..23.");
            var bank = replay.Bank(value.Bank);
            if (bank is null)
            {
                checks.Add(new PcrCheck(value.Bank, value.Index, PcrVerdict.NotCovered, value.Value, default, 0,
                    "the log carries no digests for this bank"));
                continue;
            }

            int count = bank.EventCount(value.Index);
            var replayed = bank.Value(value.Index).ToArray();
            if (!bank.IsComputable)
            {
                checks.Add(new PcrCheck(value.Bank, value.Index, PcrVerdict.NotCovered, value.Value, default, count,
                    "this machine cannot compute the bank's hash"));
            }
            else if ((bank.IncompleteMask & (1u << value.Index)) != 0)
            {
                checks.Add(new PcrCheck(value.Bank, value.Index, PcrVerdict.NotCovered, value.Value, replayed, count,
                    "some events extended into this PCR lack a digest for this bank"));
            }
            else if (count == 0)
            {
                string detail = PcrCheck.IsResetValue(value.Index, value.Value.Span)
                    ? "no events in the log; the value is the reset value"
                    : "no events in the log, and the value is not the reset value (measured by something that does not log here, e.g. IMA)";
                checks.Add(new PcrCheck(value.Bank, value.Index, PcrVerdict.NotCovered, value.Value, replayed, 0, detail));
            }
            else if (value.Value.Span.SequenceEqual(replayed))
            {
                checks.Add(new PcrCheck(value.Bank, value.Index, PcrVerdict.Match, value.Value, replayed, count, null));
                matched[value.Bank] = matched.GetValueOrDefault(value.Bank) | (1u << value.Index);
            }
            else if (value.Index == 5 && TryAppendExitBootServices(replay.Log, bank, value.Value.Span, out string? appended))
            {
                checks.Add(new PcrCheck(value.Bank, value.Index, PcrVerdict.MissingExitBootServices, value.Value, replayed, count,
                    $"the firmware did not log ExitBootServices; appending {appended} reproduces the value"));
                matched[value.Bank] = matched.GetValueOrDefault(value.Bank) | (1u << value.Index);
            }
            else
            {
                checks.Add(new PcrCheck(value.Bank, value.Index, PcrVerdict.Mismatch, value.Value, replayed, count, null));
            }
        }

        return new PcrComparison(replay, [.. checks], matched, pcrValuesGiven: true);
    }

    /// <summary>
    /// go-attestation's workaround (eventlog_workarounds.go, PR #153) made explicit: when PCR5 lacks the
    /// ExitBootServices EV_EFI_ACTION events, try the standard ones (PFP §10.4.4) after the logged events.
    /// </summary>
    private static bool TryAppendExitBootServices(TcgEventLog log, PcrBankReplay bank, ReadOnlySpan<byte> expected, out string? appended)
    {
        appended = null;
        bool invocationLogged = false;
        bool returnLogged = false;
        foreach (var ev in log.Events)
        {
            if (ev.PcrIndex != 5 || ev.Type != TcgEventType.EfiAction)
                continue;
            var text = ev.Data.Span;
            invocationLogged |= text.SequenceEqual(Encoding.ASCII.GetBytes(EventLogReplay.ExitBootServicesInvocation));
            returnLogged |= text.StartsWith("Exit Boot Services Returned"u8);
        }

        if (returnLogged)
            return false;

        Span<byte> pcr = stackalloc byte[bank.DigestSize];
        Span<byte> digest = stackalloc byte[bank.DigestSize];
        Span<byte> scratch = stackalloc byte[256];
        foreach (string result in new[] { EventLogReplay.ExitBootServicesSucceeded, EventLogReplay.ExitBootServicesFailed })
        {
            bank.Value(5).CopyTo(pcr);
            if (!invocationLogged)
            {
                TpmHashAlgorithm.Hash(bank.Algorithm, Encoding.ASCII.GetBytes(EventLogReplay.ExitBootServicesInvocation), digest);
                EventLogReplay.Extend(BclTpmDigest.Instance, bank.Algorithm, pcr, digest, scratch);
            }

            TpmHashAlgorithm.Hash(bank.Algorithm, Encoding.ASCII.GetBytes(result), digest);
            EventLogReplay.Extend(BclTpmDigest.Instance, bank.Algorithm, pcr, digest, scratch);
            if (pcr.SequenceEqual(expected))
            {
                appended = invocationLogged ? $"\"{result}\"" : $"\"{EventLogReplay.ExitBootServicesInvocation}\" and \"{result}\"";
                return true;
            }
        }

        return false;
    }
}
