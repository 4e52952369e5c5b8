using System.Buffers.Binary;
using System.Globalization;

namespace TrustedLaunch.GuestChannel.Framing;

/// <summary>
/// One frame of the guest channel (docs/guest-channel.md, "Frames"): a 4-byte big-endian payload length, then that
/// many bytes of UTF-8 JSON. Length 0 and lengths above <see cref="MaxPayloadBytes"/> are errors, not messages.
/// </summary>
public static class GuestFrame
{
    public const int HeaderBytes = sizeof(uint);

    /// <summary>16 MiB: room for an 8 MiB event log and an 8 MiB IMA log in base64 would not fit, so the evidence caps its logs below this.</summary>
    public const int MaxPayloadBytes = 16 * 1024 * 1024;

    /// <summary>The header and payload as one buffer.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> payload)
    {
        ValidateLength(payload.Length);
        var frame = new byte[HeaderBytes + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(HeaderBytes));
        return frame;
    }

    /// <summary>
    /// Reads one frame from the start of <paramref name="buffer"/>. False when the buffer does not yet hold a whole frame
    /// (nothing consumed); throws <see cref="GuestChannelException"/> for a header no frame can have.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> buffer, out ReadOnlySpan<byte> payload, out int bytesConsumed)
    {
        payload = default;
        bytesConsumed = 0;
        if (buffer.Length < HeaderBytes)
            return false;
        uint length = BinaryPrimitives.ReadUInt32BigEndian(buffer);
        ValidateLength(length);
        if ((ulong)buffer.Length - HeaderBytes < length)
            return false;
        payload = buffer.Slice(HeaderBytes, (int)length);
        bytesConsumed = HeaderBytes + (int)length;
        return true;
    }

    /// <summary>Checks a length prefix; throws <see cref="GuestChannelException"/> (Oversized or EmptyFrame).</summary>
    public static void ValidateLength(long length)
    {
        if (length == 0)
            throw new GuestChannelException(GuestChannelError.EmptyFrame, "Frame length is 0; every frame carries one JSON message.");
        if (length > MaxPayloadBytes)
        {
            throw new GuestChannelException(GuestChannelError.Oversized,
                string.Create(CultureInfo.InvariantCulture, $"Frame length {length} exceeds the {MaxPayloadBytes}-byte limit."));
        }
    }
}
