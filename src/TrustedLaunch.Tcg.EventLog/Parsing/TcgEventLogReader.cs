using System.Buffers.Binary;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>One record as the reader sees it: spans into the log, nothing copied.</summary>
public readonly ref struct TcgEventRecord
{
    internal TcgEventRecord(int offset, int size, uint pcrIndex, TcgEventType type, int digestCount, ReadOnlySpan<byte> digests, ReadOnlySpan<byte> data)
    {
        Offset = offset;
        Size = size;
        PcrIndex = pcrIndex;
        Type = type;
        DigestCount = digestCount;
        RawDigests = digests;
        Data = data;
    }

    public int Offset { get; }

    public int Size { get; }

    public uint PcrIndex { get; }

    public TcgEventType Type { get; }

    public int DigestCount { get; }

    /// <summary>The digests as stored: <c>{u16 alg; digest}</c> pairs (agile) or 20 SHA-1 bytes (SHA-1 format).</summary>
    public ReadOnlySpan<byte> RawDigests { get; }

    public ReadOnlySpan<byte> Data { get; }
}

/// <summary>
/// Forward-only reader over a TCG event log (PFP 1.06 §10.2): detects the format from the first record, then
/// yields records as spans. Every length is checked against what is left before it is used, so hostile input
/// ends in a <see cref="TcgEventLogFormatException"/> (or <c>false</c> from <see cref="TryReadNext"/>), never
/// an out-of-range access; each step consumes at least 12 bytes, so reading always terminates.
/// </summary>
public ref struct TcgEventLogReader
{
    /// <summary>TCG_PCR_EVENT header: PCRIndex, EventType, SHA-1 digest[20], EventSize (PFP §10.2.1).</summary>
    public const int Sha1HeaderSize = 32;

    private readonly ReadOnlySpan<byte> _log;
    private readonly TcgAlgorithmSize[] _algorithms;
    private int _position;
    private bool _headerPending;

    /// <summary>Starts reading; throws <see cref="TcgEventLogFormatException"/> when the first record is malformed.</summary>
    public TcgEventLogReader(ReadOnlySpan<byte> log)
    {
        if (!TryCreate(log, out this, out string? error, out int offset))
            throw new TcgEventLogFormatException(offset, error!);
    }

    private TcgEventLogReader(ReadOnlySpan<byte> log, TcgEventLogFormat format, TcgSpecIdEvent? specId, TcgAlgorithmSize[] algorithms)
    {
        _log = log;
        Format = format;
        SpecId = specId;
        _algorithms = algorithms;
        _headerPending = true;
    }

    public TcgEventLogFormat Format { get; }

    /// <summary>The Spec ID event of an agile log; null for a SHA-1-format log.</summary>
    public TcgSpecIdEvent? SpecId { get; }

    /// <summary>Banks whose digests the log carries, with their sizes.</summary>
    public readonly ReadOnlySpan<TcgAlgorithmSize> Algorithms => _algorithms;

    /// <summary>Offset of the next record.</summary>
    public readonly int Position => _position;

    /// <summary>Number of trailing zero bytes skipped at the end (firmware pads the log area with zeros).</summary>
    public int TrailingZeroBytes { get; private set; }

    /// <summary>Detects the format from the first record; returns false with a reason and offset when it is malformed.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> log, out TcgEventLogReader reader, out string? error, out int errorOffset)
    {
        reader = default;
        errorOffset = 0;
        if (log.IsEmpty)
        {
            error = "the log is empty";
            return false;
        }

        if (log.Length < Sha1HeaderSize)
        {
            error = $"the log is {log.Length} bytes, shorter than one {Sha1HeaderSize}-byte TCG_PCR_EVENT header";
            return false;
        }

        uint size = BinaryPrimitives.ReadUInt32LittleEndian(log[28..]);
        if (size > (uint)(log.Length - Sha1HeaderSize))
        {
            errorOffset = 28;
            error = $"first event's EventSize {size} exceeds the {log.Length - Sha1HeaderSize} bytes after its header";
            return false;
        }

        var type = (TcgEventType)BinaryPrimitives.ReadUInt32LittleEndian(log[4..]);
        ReadOnlySpan<byte> data = log.Slice(Sha1HeaderSize, (int)size);

        // PFP §10.4.5.1: an agile log starts with a SHA-1-format EV_NO_ACTION carrying "Spec ID Event03".
        // A shorter or different EV_NO_ACTION (StartupLocality alone, go-attestation PR #208) means SHA-1 format.
        if (type == TcgEventType.NoAction && TcgSpecIdEvent.HasSignature03(data))
        {
            // The Spec ID event is parsed from a copy-free slice; its vendorInfo is copied (tiny) because the
            // reader holds a span, not memory.
            if (!TcgSpecIdEvent.TryParse(data.ToArray(), out var specId, out error, out int inner))
            {
                errorOffset = Sha1HeaderSize + Math.Max(inner, 0);
                return false;
            }

            var algorithms = new TcgAlgorithmSize[specId!.Algorithms.Count];
            for (int i = 0; i < algorithms.Length; i++)
                algorithms[i] = specId.Algorithms[i];
            reader = new TcgEventLogReader(log, TcgEventLogFormat.CryptoAgile, specId, algorithms);
        }
        else
        {
            reader = new TcgEventLogReader(log, TcgEventLogFormat.Sha1, null, Sha1Only);
        }

        error = null;
        errorOffset = -1;
        return true;
    }

    private static readonly TcgAlgorithmSize[] Sha1Only = [new TcgAlgorithmSize(TpmAlgId.Sha1, 20)];

    /// <summary>Reads the next record; false at the end of the log. Throws <see cref="TcgEventLogFormatException"/> when malformed.</summary>
    public bool ReadNext(out TcgEventRecord record)
    {
        if (!TryReadNext(out record, out string? error, out int offset))
        {
            if (error is not null)
                throw new TcgEventLogFormatException(offset, error);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Reads the next record. Returns false at the end (<paramref name="error"/> null) or on malformed input
    /// (<paramref name="error"/> set, <paramref name="errorOffset"/> where). A failed read consumes nothing.
    /// </summary>
    public bool TryReadNext(out TcgEventRecord record, out string? error, out int errorOffset)
    {
        record = default;
        error = null;
        errorOffset = -1;
        ReadOnlySpan<byte> rest = _log[_position..];
        if (rest.IsEmpty)
            return false;

        if (_headerPending || Format == TcgEventLogFormat.Sha1)
        {
            if (!_headerPending && rest.IndexOfAnyExcept((byte)0) < 0)
            {
                // Trailing zero padding after the last record (PFP: the log area is zero-initialised).
                TrailingZeroBytes = rest.Length;
                _position = _log.Length;
                return false;
            }

            if (rest.Length < Sha1HeaderSize)
            {
                errorOffset = _position;
                error = $"{rest.Length} bytes left, a TCG_PCR_EVENT header needs {Sha1HeaderSize}";
                return false;
            }

            uint size = BinaryPrimitives.ReadUInt32LittleEndian(rest[28..]);
            if (size > (uint)(rest.Length - Sha1HeaderSize))
            {
                errorOffset = _position + 28;
                error = $"EventSize {size} exceeds the {rest.Length - Sha1HeaderSize} bytes left in the log";
                return false;
            }

            int total = Sha1HeaderSize + (int)size;
            record = new TcgEventRecord(_position, total,
                BinaryPrimitives.ReadUInt32LittleEndian(rest),
                (TcgEventType)BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]),
                1, rest.Slice(8, 20), rest.Slice(Sha1HeaderSize, (int)size));
            _position += total;
            _headerPending = false;
            return true;
        }

        // PFP §10.2.2 TCG_PCR_EVENT2: PCRIndex u32, EventType u32, TPML_DIGEST_VALUES {count u32, {alg u16, digest}[]}, EventSize u32, Event[].
        if (rest.IndexOfAnyExcept((byte)0) < 0)
        {
            TrailingZeroBytes = rest.Length;
            _position = _log.Length;
            return false;
        }

        if (rest.Length < 12)
        {
            errorOffset = _position;
            error = $"{rest.Length} bytes left, a TCG_PCR_EVENT2 header needs at least 12";
            return false;
        }

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(rest[8..]);
        if (count > (uint)_algorithms.Length)
        {
            errorOffset = _position + 8;
            error = $"digest count {count} exceeds the {_algorithms.Length} algorithms of the Spec ID event";
            return false;
        }

        int at = 12;
        for (int i = 0; i < count; i++)
        {
            if (rest.Length - at < 2)
            {
                errorOffset = _position + at;
                error = $"digest {i} is truncated: {rest.Length - at} bytes left";
                return false;
            }

            var alg = (TpmAlgId)BinaryPrimitives.ReadUInt16LittleEndian(rest[at..]);
            int size = SizeOf(alg);
            if (size < 0)
            {
                errorOffset = _position + at;
                error = $"digest algorithm 0x{(ushort)alg:X4} is not listed in the Spec ID event, so its size is unknown";
                return false;
            }

            if (rest.Length - at - 2 < size)
            {
                errorOffset = _position + at;
                error = $"{TpmHashAlgorithm.BankName(alg) ?? "digest"} of {size} bytes is truncated: {rest.Length - at - 2} bytes left";
                return false;
            }

            at += 2 + size;
        }

        if (rest.Length - at < 4)
        {
            errorOffset = _position + at;
            error = $"EventSize is truncated: {rest.Length - at} bytes left";
            return false;
        }

        uint eventSize = BinaryPrimitives.ReadUInt32LittleEndian(rest[at..]);
        if (eventSize > (uint)(rest.Length - at - 4))
        {
            errorOffset = _position + at;
            error = $"EventSize {eventSize} exceeds the {rest.Length - at - 4} bytes left in the log";
            return false;
        }

        int recordSize = at + 4 + (int)eventSize;
        record = new TcgEventRecord(_position, recordSize,
            BinaryPrimitives.ReadUInt32LittleEndian(rest),
            (TcgEventType)BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]),
            (int)count, rest[12..at], rest.Slice(at + 4, (int)eventSize));
        _position += recordSize;
        return true;
    }

    /// <summary>Digest size of <paramref name="algorithm"/> per the Spec ID event, or -1 when not listed.</summary>
    public readonly int SizeOf(TpmAlgId algorithm)
    {
        foreach (var a in _algorithms)
        {
            if (a.Algorithm == algorithm)
                return a.DigestSize;
        }

        return -1;
    }
}
