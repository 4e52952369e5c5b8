using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>The log's container format (PFP 1.06 §10.2).</summary>
public enum TcgEventLogFormat
{
    /// <summary>Only <c>TCG_PCR_EVENT</c> records with one SHA-1 digest each (TPM 1.2 style, no Spec ID Event03).</summary>
    Sha1,

    /// <summary>A SHA-1-format Spec ID Event03 header, then <c>TCG_PCR_EVENT2</c> records with a digest per listed bank.</summary>
    CryptoAgile,
}

/// <summary>One digest of an event: the bank's algorithm and the bytes extended into that bank.</summary>
public readonly record struct TcgDigest(TpmAlgId Algorithm, ReadOnlyMemory<byte> Value);

/// <summary>
/// One event of a parsed log. <see cref="Type"/> and <see cref="Data"/> are untrusted: only the digests are
/// extended into PCRs, so an event's meaning counts only once its digest replayed (see <see cref="PcrComparison"/>).
/// </summary>
public sealed class TcgEvent
{
    private readonly TcgDigest[] _digests;

    internal TcgEvent(int index, int offset, int size, uint pcrIndex, TcgEventType type, TcgDigest[] digests, ReadOnlyMemory<byte> data)
    {
        Index = index;
        Offset = offset;
        Size = size;
        PcrIndex = pcrIndex;
        Type = type;
        _digests = digests;
        Data = data;
    }

    /// <summary>Position in the log, counting every record (the Spec ID header of an agile log is 0).</summary>
    public int Index { get; }

    /// <summary>Byte offset of the record in the log.</summary>
    public int Offset { get; }

    /// <summary>Size of the whole record in bytes.</summary>
    public int Size { get; }

    public uint PcrIndex { get; }

    public TcgEventType Type { get; }

    /// <summary>The digests in log order (one SHA-1 digest in a SHA-1-format log).</summary>
    public IReadOnlyList<TcgDigest> Digests => _digests;

    /// <summary>The event data (TCG_PCR_EVENT2.Event), a slice of the log bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>True when this event is extended into a PCR: every type but EV_NO_ACTION (PFP §10.4.1), PCR 0..23.</summary>
    public bool IsExtended => Type != TcgEventType.NoAction && PcrIndex < TcgEventLog.PcrCount;

    public bool TryGetDigest(TpmAlgId algorithm, out ReadOnlyMemory<byte> digest)
    {
        foreach (var d in _digests)
        {
            if (d.Algorithm == algorithm)
            {
                digest = d.Value;
                return true;
            }
        }

        digest = default;
        return false;
    }

    public string TypeName => TcgEventTypeNames.Name(Type);

    public override string ToString() => $"#{Index} PCR{PcrIndex} {TypeName} ({Data.Length} bytes)";
}
