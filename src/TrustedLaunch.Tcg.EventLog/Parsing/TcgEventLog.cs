using System.Buffers.Binary;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>
/// A whole parsed TCG PC Client event log (PFP 1.06 §10): format, banks, every event (unknown types kept raw),
/// and the StartupLocality that sets PCR0's initial value. Events keep slices of <see cref="Bytes"/>, no copies.
/// </summary>
public sealed class TcgEventLog
{
    /// <summary>PCRs 0..23 of a PC Client TPM (PFP §2.3.4).</summary>
    public const int PcrCount = 24;

    /// <summary>"StartupLocality\0" (PFP §10.4.5.3): EV_NO_ACTION in PCR0 whose byte sets PCR0's initial value.</summary>
    public static ReadOnlySpan<byte> StartupLocalitySignature => "StartupLocality\0"u8;

    private readonly TcgEvent[] _events;
    private readonly TcgAlgorithmSize[] _algorithms;

    private TcgEventLog(ReadOnlyMemory<byte> bytes, TcgEventLogFormat format, TcgSpecIdEvent? specId, TcgAlgorithmSize[] algorithms,
        TcgEvent[] events, byte? startupLocality, int trailingZeroBytes)
    {
        Bytes = bytes;
        Format = format;
        SpecId = specId;
        _algorithms = algorithms;
        _events = events;
        StartupLocality = startupLocality;
        TrailingZeroBytes = trailingZeroBytes;
    }

    public ReadOnlyMemory<byte> Bytes { get; }

    public TcgEventLogFormat Format { get; }

    /// <summary>The Spec ID Event03 of an agile log (also <see cref="Events"/>[0]); null for SHA-1 format.</summary>
    public TcgSpecIdEvent? SpecId { get; }

    /// <summary>Banks the log carries digests for (SHA-1 only for a SHA-1-format log).</summary>
    public IReadOnlyList<TcgAlgorithmSize> Algorithms => _algorithms;

    /// <summary>Every record in log order, including the Spec ID header of an agile log.</summary>
    public IReadOnlyList<TcgEvent> Events => _events;

    /// <summary>Locality from a StartupLocality event, if the log has one (3 on H-CRTM/TXT platforms).</summary>
    public byte? StartupLocality { get; }

    /// <summary>Zero bytes after the last record, skipped as padding.</summary>
    public int TrailingZeroBytes { get; }

    /// <summary>Parses a log; throws <see cref="TcgEventLogFormatException"/> with the offset and reason when malformed.</summary>
    public static TcgEventLog Parse(ReadOnlyMemory<byte> log)
    {
        if (!TryParse(log, out var parsed, out string? error, out int offset))
            throw new TcgEventLogFormatException(offset, error!);
        return parsed!;
    }

    /// <summary>Non-throwing <see cref="Parse"/>: false with the reason and byte offset when malformed.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> log, out TcgEventLog? parsed, out string? error, out int errorOffset)
    {
        parsed = null;
        ReadOnlySpan<byte> span = log.Span;
        if (!TcgEventLogReader.TryCreate(span, out var reader, out error, out errorOffset))
            return false;

        var algorithms = reader.Algorithms.ToArray();
        // Every record is at least 12 bytes (agile) or 32 (SHA-1), which bounds the list up front.
        var events = new List<TcgEvent>(Math.Min(span.Length / 64 + 4, 4096));
        byte? locality = null;
        while (reader.TryReadNext(out var record, out error, out errorOffset))
        {
            var digests = new TcgDigest[record.DigestCount];
            if (reader.Format == TcgEventLogFormat.Sha1 || events.Count == 0 && reader.Format == TcgEventLogFormat.CryptoAgile)
            {
                // The first record of an agile log is in SHA-1 format too (PFP §10.4.5.1).
                digests = [new TcgDigest(TpmAlgId.Sha1, log.Slice(record.Offset + 8, 20))];
            }
            else
            {
                int at = record.Offset + 12;
                for (int i = 0; i < digests.Length; i++)
                {
                    var alg = (TpmAlgId)BinaryPrimitives.ReadUInt16LittleEndian(span[at..]);
                    int size = reader.SizeOf(alg);
                    for (int j = 0; j < i; j++)
                    {
                        if (digests[j].Algorithm == alg)
                        {
                            error = $"event carries two digests for algorithm 0x{(ushort)alg:X4}";
                            errorOffset = at;
                            return false;
                        }
                    }

                    digests[i] = new TcgDigest(alg, log.Slice(at + 2, size));
                    at += 2 + size;
                }
            }

            int dataOffset = record.Offset + record.Size - record.Data.Length;
            var ev = new TcgEvent(events.Count, record.Offset, record.Size, record.PcrIndex, record.Type, digests,
                log.Slice(dataOffset, record.Data.Length));
            events.Add(ev);

            // PFP §10.4.5.3: StartupLocality is an EV_NO_ACTION in PCR0 (17 bytes: signature + locality).
            if (record.Type == TcgEventType.NoAction && record.PcrIndex == 0 && record.Data.Length == 17
                && record.Data.StartsWith(StartupLocalitySignature))
            {
                locality = record.Data[16];
            }
        }

        if (error is not null)
            return false;

        parsed = new TcgEventLog(log, reader.Format, reader.SpecId, algorithms, [.. events], locality, reader.TrailingZeroBytes);
        error = null;
        errorOffset = -1;
        return true;
    }

    /// <summary>The bank's digest size in this log, or -1 when the log does not carry that bank.</summary>
    public int DigestSize(TpmAlgId algorithm)
    {
        foreach (var a in _algorithms)
        {
            if (a.Algorithm == algorithm)
                return a.DigestSize;
        }

        return -1;
    }
}
