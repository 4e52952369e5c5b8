using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>
/// Replays a log in every bank it carries: <c>PCR = H(PCR ‖ digest)</c> for every extended event (PFP §2.3.4),
/// EV_NO_ACTION skipped, PCR0 starting at <c>0…0‖locality</c> when a StartupLocality event is present (PFP §10.4.5.3).
/// </summary>
public sealed class EventLogReplay
{
    /// <summary>EV_EFI_ACTION strings edk2 measures into PCR5 at ExitBootServices (PFP §10.4.4, Table 17).</summary>
    public const string ExitBootServicesInvocation = "Exit Boot Services Invocation";

    public const string ExitBootServicesSucceeded = "Exit Boot Services Returned with Success";

    public const string ExitBootServicesFailed = "Exit Boot Services Returned with Failure";

    private readonly PcrBankReplay[] _banks;

    private EventLogReplay(TcgEventLog log, PcrBankReplay[] banks)
    {
        Log = log;
        _banks = banks;
    }

    public TcgEventLog Log { get; }

    public IReadOnlyList<PcrBankReplay> Banks => _banks;

    /// <summary>The bank replay for <paramref name="algorithm"/>, or null when the log does not carry it.</summary>
    public PcrBankReplay? Bank(TpmAlgId algorithm)
    {
        foreach (var b in _banks)
        {
            if (b.Algorithm == algorithm)
                return b;
        }

        return null;
    }

    /// <summary>Replays <paramref name="log"/> in every bank it carries, hashing with <paramref name="digest"/> (the BCL by default).</summary>
    public static EventLogReplay Replay(TcgEventLog log, ITpmDigest? digest = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        digest ??= BclTpmDigest.Instance;
        var banks = new PcrBankReplay[log.Algorithms.Count];
        for (int b = 0; b < banks.Length; b++)
            banks[b] = ReplayBank(log, log.Algorithms[b], digest);
        return new EventLogReplay(log, banks);
    }

    private static PcrBankReplay ReplayBank(TcgEventLog log, TcgAlgorithmSize bank, ITpmDigest digest)
    {
        int size = bank.DigestSize;
        bool computable = TpmHashAlgorithm.IsComputable(bank.Algorithm) && TpmHashAlgorithm.DigestSize(bank.Algorithm) == size;
        var values = new byte[TcgEventLog.PcrCount * size];
        var counts = new int[TcgEventLog.PcrCount];
        uint incomplete = 0;
        if (log.StartupLocality is byte locality)
            values[size - 1] = locality;

        Span<byte> buffer = stackalloc byte[256];
        foreach (var ev in log.Events)
        {
            if (!ev.IsExtended)
                continue;
            int pcr = (int)ev.PcrIndex;
            if (!ev.TryGetDigest(bank.Algorithm, out var eventDigest))
            {
                incomplete |= 1u << pcr;
                continue;
            }

            counts[pcr]++;
            if (computable)
                Extend(digest, bank.Algorithm, values.AsSpan(pcr * size, size), eventDigest.Span, buffer);
        }

        return new PcrBankReplay(bank.Algorithm, size, values, counts, incomplete, computable);
    }

    /// <summary>TPM2_PCR_Extend: <c>pcr = H(pcr ‖ digest)</c> (TPM 2.0 Part 1 §17.3), in place, no allocation.</summary>
    internal static void Extend(ITpmDigest hash, TpmAlgId algorithm, Span<byte> pcr, ReadOnlySpan<byte> digest, Span<byte> scratch)
    {
        int size = pcr.Length;
        pcr.CopyTo(scratch);
        digest.CopyTo(scratch[size..]);
        hash.Hash(algorithm, scratch[..(size * 2)], pcr);
    }

    /// <summary>Compares the replay with PCR values read from a TPM (or published); see <see cref="PcrComparison"/>.</summary>
    public PcrComparison CompareWith(IEnumerable<PcrValue> expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        return PcrComparison.Create(this, expected);
    }
}
