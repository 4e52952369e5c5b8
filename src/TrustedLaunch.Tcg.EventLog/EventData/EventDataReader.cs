using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>Little-endian reader over one event's data; every read is bounds-checked and throws a typed error with the log offset.</summary>
internal ref struct EventDataReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _baseOffset;
    private int _position;

    public EventDataReader(ReadOnlySpan<byte> data, int baseOffset)
    {
        _data = data;
        _baseOffset = baseOffset;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _data.Length - _position;

    public readonly ReadOnlySpan<byte> Rest => _data[_position..];

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public Guid ReadGuid() => new(Take(16));

    /// <summary>Reads <paramref name="count"/> bytes; <paramref name="count"/> is a wire value, checked as unsigned 64-bit.</summary>
    public ReadOnlySpan<byte> ReadBytes(ulong count, string what)
    {
        if (count > (ulong)Remaining)
            Fail($"{what} of {count} bytes exceeds the {Remaining} bytes left in the event data");
        return Take((int)count);
    }

    /// <summary>Reads <paramref name="chars"/> UTF-16LE code units.</summary>
    public string ReadUtf16(ulong chars, string what)
    {
        if (chars > (ulong)Remaining / 2)
            Fail($"{what} of {chars} characters exceeds the {Remaining} bytes left in the event data");
        return Encoding.Unicode.GetString(Take((int)chars * 2));
    }

    [DoesNotReturn]
    public readonly void Fail(string reason) => throw new TcgEventLogFormatException(_baseOffset + _position, reason);

    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)Remaining)
            Fail($"event data truncated: {count} bytes needed, {Remaining} left");
        var head = _data.Slice(_position, count);
        _position += count;
        return head;
    }
}
