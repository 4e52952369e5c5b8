using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace TrustedLaunch.ArmTemplates.Functions;

/// <summary>
/// ARM's <c>uniqueString</c>: its arguments joined with '-', UTF-8, hashed with the 64-bit MurmurHash variant of
/// Microsoft's ResourceStack library (two 32-bit lanes, seed 0), written as 13 characters of lowercase RFC 4648 base32
/// taken from the hash's high bits. The result is the one Azure gives for the same inputs (tests pin Bicep's outputs).
/// </summary>
public static class UniqueString
{
    private const uint C1 = 597399067;
    private const uint C2 = 2869860233;
    private const uint C3 = 0x85EBCA6B;
    private const uint C4 = 0xC2B2AE35;
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string Compute(params string[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        ulong hash = Hash64(Encoding.UTF8.GetBytes(string.Join('-', values)));
        Span<char> text = stackalloc char[13];
        for (int i = 0; i < text.Length; i++)
        {
            text[i] = Alphabet[(int)(hash >> 59)];
            hash <<= 5;
        }

        return new string(text);
    }

    internal static ulong Hash64(ReadOnlySpan<byte> data)
    {
        uint h1 = 0, h2 = 0;
        int blocks = data.Length / 8 * 8;
        for (int i = 0; i < blocks; i += 8)
        {
            uint k1 = BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
            uint k2 = BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]);
            h1 ^= MixLane1(k1);
            h1 = (BitOperations.RotateLeft(h1, 19) + h2) * 5 + 1444728091;
            h2 ^= MixLane2(k2);
            h2 = (BitOperations.RotateLeft(h2, 13) + h1) * 5 + 197830471;
        }

        ReadOnlySpan<byte> tail = data[blocks..];
        if (tail.Length > 0)
        {
            h1 ^= MixLane1(ReadPartial(tail[..Math.Min(4, tail.Length)]));
            if (tail.Length > 4)
                h2 ^= MixLane2(ReadPartial(tail[4..]));
        }

        uint length = (uint)data.Length;
        h1 ^= length;
        h2 ^= length;
        h1 += h2;
        h2 += h1;
        h1 = Finalize(h1);
        h2 = Finalize(h2);
        h1 += h2;
        h2 += h1;
        return ((ulong)h2 << 32) | h1;
    }

    private static uint MixLane1(uint k) => BitOperations.RotateLeft(k * C1, 15) * C2;

    private static uint MixLane2(uint k) => BitOperations.RotateLeft(k * C2, 17) * C1;

    private static uint ReadPartial(ReadOnlySpan<byte> bytes)
    {
        uint value = 0;
        for (int i = 0; i < bytes.Length; i++)
            value |= (uint)bytes[i] << (8 * i);
        return value;
    }

    private static uint Finalize(uint h)
    {
        h = (h ^ (h >> 16)) * C3;
        h = (h ^ (h >> 13)) * C4;
        return h ^ (h >> 16);
    }
}
