using System.Buffers.Binary;

namespace TrustedLaunch.VTpm.Device;

/// <summary>
/// Delimits commands on the swtpm data channel: a raw TPM command (tag 0x8001/0x8002, u32 size), or the
/// optional <c>TPM_SEND_COMMAND</c> prefix (u32be 8 | u8 locality | u32be size | command) whose response is
/// wrapped as u32be size | response | u32be 0 (vtpm.md §2.4).
/// </summary>
public static class SwtpmDataFraming
{
    /// <summary>Largest command accepted (libtpms' TPM_BUFFER_MAX is 4096; headroom for the prefix).</summary>
    public const int MaxCommandLength = 8192;
    private const uint SendCommand = 8;

    /// <summary>True once <paramref name="buffered"/> holds a complete command; gives its framing.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a TPM command (the connection should be closed).</exception>
    public static bool TryGetFrame(ReadOnlySpan<byte> buffered, out DataFrame frame)
    {
        frame = default;
        if (buffered.Length < 10)
            return false;
        ushort tag = BinaryPrimitives.ReadUInt16BigEndian(buffered);
        if (tag is 0x8001 or 0x8002 or 0x00C1 or 0x00C2 or 0x00C3)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(buffered[2..]);
            if (size < 10 || size > MaxCommandLength)
                throw new InvalidDataException($"TPM command size {size} is out of range.");
            frame = new DataFrame(0, (int)size, (int)size, null);
            return buffered.Length >= size;
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(buffered) == SendCommand)
        {
            byte locality = buffered[4];
            uint size = BinaryPrimitives.ReadUInt32BigEndian(buffered[5..]);
            if (size < 10 || size > MaxCommandLength)
                throw new InvalidDataException($"TPM command size {size} is out of range.");
            frame = new DataFrame(9, (int)size, 9 + (int)size, locality);
            return buffered.Length >= frame.TotalLength;
        }

        throw new InvalidDataException($"Data-channel bytes start with 0x{tag:X4}, neither a TPM tag nor TPM_SEND_COMMAND.");
    }

    /// <summary>Wraps a response for a prefixed command: u32be size | response | u32be 0.</summary>
    public static byte[] WrapResponse(ReadOnlySpan<byte> response)
    {
        var wrapped = new byte[response.Length + 8];
        BinaryPrimitives.WriteUInt32BigEndian(wrapped, (uint)response.Length);
        response.CopyTo(wrapped.AsSpan(4));
        return wrapped;
    }
}

/// <summary>Where the TPM command sits in a data-channel frame; <see cref="Locality"/> is set for prefixed frames.</summary>
public readonly record struct DataFrame(int CommandOffset, int CommandLength, int TotalLength, byte? Locality);
