using System.Buffers.Binary;

namespace TrustedLaunch.Vmgs.Format;

/// <summary>Consumes little-endian fields from a span; running out of bytes is a <see cref="VmgsFormatException"/>.</summary>
internal ref struct LittleEndianReader
{
    private ReadOnlySpan<byte> _rest;

    public LittleEndianReader(ReadOnlySpan<byte> source) => _rest = source;

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(sizeof(ushort)));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(sizeof(uint)));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(sizeof(ulong)));

    public ReadOnlySpan<byte> ReadBytes(int count) => Take(count);

    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)_rest.Length)
            throw new VmgsFormatException($"Header field needs {count} bytes but only {_rest.Length} remain.");
        ReadOnlySpan<byte> head = _rest[..count];
        _rest = _rest[count..];
        return head;
    }
}
