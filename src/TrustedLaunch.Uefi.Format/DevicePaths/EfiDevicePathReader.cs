using System.Buffers.Binary;

namespace TrustedLaunch.Uefi.Format;

/// <summary>Device path node types (UEFI 2.10 §10.3.1).</summary>
public enum EfiDevicePathType : byte
{
    Hardware = 0x01,
    Acpi = 0x02,
    Messaging = 0x03,
    Media = 0x04,
    Bbs = 0x05,
    End = 0x7F,
}

/// <summary>One <c>EFI_DEVICE_PATH_PROTOCOL</c> node: type, sub-type and the bytes after the 4-byte header.</summary>
public readonly ref struct EfiDevicePathNode
{
    internal EfiDevicePathNode(int offset, EfiDevicePathType type, byte subType, ReadOnlySpan<byte> data)
    {
        Offset = offset;
        Type = type;
        SubType = subType;
        Data = data;
    }

    /// <summary>Byte offset of the node in the device path.</summary>
    public int Offset { get; }

    public EfiDevicePathType Type { get; }

    public byte SubType { get; }

    /// <summary>Node payload after the header (Length − 4 bytes).</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>End of an instance (0x7F/0x01): another instance follows.</summary>
    public bool IsEndInstance => Type == EfiDevicePathType.End && SubType == 0x01;

    /// <summary>End of the whole device path (0x7F/0xFF).</summary>
    public bool IsEndEntire => Type == EfiDevicePathType.End && SubType == 0xFF;
}

/// <summary>
/// Forward-only reader over a packed device path (UEFI 2.10 §10.2: nodes of <c>{u8 Type; u8 SubType; u16 Length}</c>
/// + data, little-endian). Every node length is checked against what is left; each node consumes ≥ 4 bytes.
/// </summary>
public ref struct EfiDevicePathReader
{
    /// <summary>Size of the node header: Type, SubType, Length[2].</summary>
    public const int HeaderSize = 4;

    private readonly ReadOnlySpan<byte> _path;
    private int _position;
    private bool _ended;

    public EfiDevicePathReader(ReadOnlySpan<byte> path) => _path = path;

    /// <summary>Offset of the next node.</summary>
    public readonly int Position => _position;

    /// <summary>Bytes after the End-Entire node, ignored by <see cref="TryReadNext"/>.</summary>
    public readonly int TrailingBytes => _ended ? _path.Length - _position : 0;

    /// <summary>
    /// Reads the next node. False at the end (after End-Entire or when no bytes are left; <paramref name="error"/> null)
    /// or when the node is malformed (<paramref name="error"/> set). A failed read consumes nothing.
    /// </summary>
    public bool TryReadNext(out EfiDevicePathNode node, out string? error)
    {
        node = default;
        error = null;
        if (_ended || _position >= _path.Length)
            return false;

        ReadOnlySpan<byte> rest = _path[_position..];
        if (rest.Length < HeaderSize)
        {
            error = $"device path node at offset {_position} is truncated: {rest.Length} bytes left, the header needs {HeaderSize}";
            return false;
        }

        ushort length = BinaryPrimitives.ReadUInt16LittleEndian(rest[2..]);
        if (length < HeaderSize || length > rest.Length)
        {
            error = $"device path node at offset {_position} has length {length}, outside {HeaderSize}..{rest.Length}";
            return false;
        }

        node = new EfiDevicePathNode(_position, (EfiDevicePathType)rest[0], rest[1], rest[HeaderSize..length]);
        _position += length;
        if (node.IsEndEntire)
            _ended = true;
        return true;
    }

    /// <summary>Throwing <see cref="TryReadNext"/>: <see cref="UefiFormatException"/> with the offset when malformed.</summary>
    public bool ReadNext(out EfiDevicePathNode node)
    {
        int at = _position;
        if (TryReadNext(out node, out string? error))
            return true;
        if (error is not null)
            throw new UefiFormatException(error) { Offset = at };
        return false;
    }
}
