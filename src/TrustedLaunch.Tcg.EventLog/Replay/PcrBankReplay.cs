using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>The PCR values one bank reaches by replaying the log, and which PCRs the log covers in it.</summary>
public sealed class PcrBankReplay
{
    private readonly byte[] _values;
    private readonly int[] _eventCounts;

    internal PcrBankReplay(TpmAlgId algorithm, int digestSize, byte[] values, int[] eventCounts, uint incompleteMask, bool computable)
    {
        Algorithm = algorithm;
        DigestSize = digestSize;
        _values = values;
        _eventCounts = eventCounts;
        IncompleteMask = incompleteMask;
        IsComputable = computable;
    }

    public TpmAlgId Algorithm { get; }

    public string BankName => TpmHashAlgorithm.BankName(Algorithm) ?? $"0x{(ushort)Algorithm:X4}";

    public int DigestSize { get; }

    /// <summary>False when this machine cannot compute the bank's hash (e.g. SM3); values are then not meaningful.</summary>
    public bool IsComputable { get; }

    /// <summary>Bit n set: some event extended into PCR n lacks a digest for this bank, so PCR n cannot be replayed in it.</summary>
    public uint IncompleteMask { get; }

    /// <summary>The replayed value of <paramref name="pcr"/>.</summary>
    public ReadOnlySpan<byte> Value(int pcr) => _values.AsSpan(pcr * DigestSize, DigestSize);

    /// <summary>Number of events this bank extended into <paramref name="pcr"/>.</summary>
    public int EventCount(int pcr) => _eventCounts[pcr];

    /// <summary>True when the log extends at least one event into <paramref name="pcr"/> in this bank and all of them carry its digest.</summary>
    public bool IsCovered(int pcr) => IsComputable && _eventCounts[pcr] > 0 && (IncompleteMask & (1u << pcr)) == 0;
}
