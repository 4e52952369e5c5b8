using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// Consumes TPM 2.0 marshalled data. Every multi-byte integer on the TPM wire is big-endian (TPM 2.0 Part 1 §18.1);
/// every read is bounds-checked and a short buffer raises <see cref="TpmFormatException"/> carrying the offset.
/// </summary>
public ref struct TpmReader
{
    private readonly ReadOnlySpan<byte> _source;
    private int _position;

    public TpmReader(ReadOnlySpan<byte> source)
    {
        _source = source;
        _position = 0;
    }

    /// <summary>Bytes consumed so far.</summary>
    public readonly int Position => _position;

    /// <summary>Bytes not yet consumed.</summary>
    public readonly int Remaining => _source.Length - _position;

    public readonly bool IsEmpty => _position == _source.Length;

    /// <summary>The unread bytes, without consuming them.</summary>
    public readonly ReadOnlySpan<byte> Rest => _source[_position..];

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(sizeof(ushort)));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(sizeof(uint)));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64BigEndian(Take(sizeof(ulong)));

    public TpmAlgId ReadAlgId() => (TpmAlgId)ReadUInt16();

    /// <summary>Reads a <c>TPMI_YES_NO</c>: only 0 and 1 are defined (Part 2 §9.2).</summary>
    public bool ReadYesNo()
    {
        int at = _position;
        byte value = ReadByte();
        return value switch
        {
            0 => false,
            1 => true,
            _ => throw Malformed($"TPMI_YES_NO holds {value}; only 0 and 1 are defined.", at),
        };
    }

    /// <summary>Reads <paramref name="count"/> raw bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0)
            throw Malformed($"Negative length {count}.", _position);
        return Take(count);
    }

    /// <summary>Reads a <c>TPM2B_*</c>: UINT16 size, then that many bytes (Part 2 §10.4).</summary>
    public ReadOnlySpan<byte> ReadSized() => Take(ReadUInt16());

    /// <summary>Reads a <c>TPM2B_*</c> whose size may not exceed <paramref name="maxSize"/> (the union's largest member).</summary>
    public ReadOnlySpan<byte> ReadSized(int maxSize, string what)
    {
        int at = _position;
        ushort size = ReadUInt16();
        if (size > maxSize)
            throw Malformed($"{what} size {size} exceeds its maximum {maxSize}.", at);
        return Take(size);
    }

    /// <summary>Reads a list count (<c>TPML_*</c>) and checks it against the list's maximum (Part 2 §10.9).</summary>
    public int ReadCount(int max, string what)
    {
        int at = _position;
        uint count = ReadUInt32();
        if (count > (uint)max)
            throw Malformed($"{what} count {count} exceeds its maximum {max}.", at);
        return (int)count;
    }

    /// <summary>Throws unless every byte was consumed; trailing bytes mean the producer and we disagree on the layout.</summary>
    public readonly void ExpectEnd(string what)
    {
        if (!IsEmpty)
            throw Malformed($"{Remaining} unexpected trailing byte(s) after {what}.", _position);
    }

    /// <summary>A format exception positioned at <paramref name="offset"/> of this buffer.</summary>
    public static TpmFormatException Malformed(string message, int offset) =>
        new($"{message} (at offset {offset})") { Offset = offset };

    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)(_source.Length - _position))
            ThrowTruncated(count, _source.Length - _position, _position);
        ReadOnlySpan<byte> head = _source.Slice(_position, count);
        _position += count;
        return head;
    }

    [DoesNotReturn]
    private static void ThrowTruncated(int wanted, int available, int offset) =>
        throw Malformed($"Truncated: needed {wanted} byte(s), {available} left.", offset);
}
