using System.Buffers.Binary;
using System.Text;

namespace TrustedLaunch.VTpm.State;

/// <summary>
/// Everything libtpms asks to keep, by the names it uses (<c>permall</c>, <c>volatilestate</c>), plus the
/// libtpms version that last wrote it (state from a newer libtpms must not be opened by an older one).
/// This is the plaintext of the vTPM's sealed state; layout (big-endian):
/// <code>"TLVTPM01" | u32 libtpms version | u16 count | count × (u8 name length, name, u32 length, bytes)</code>
/// </summary>
public sealed class VTpmStateImage
{
    public const string PermanentName = "permall";
    public const string VolatileName = "volatilestate";
    private const int MaxEntryLength = 16 * 1024 * 1024;
    private static ReadOnlySpan<byte> Magic => "TLVTPM01"u8;

    private readonly SortedDictionary<string, byte[]> _entries = new(StringComparer.Ordinal);

    public VTpmStateImage(uint libtpmsVersion) => LibtpmsVersion = libtpmsVersion;

    /// <summary><c>TPMLIB_GetVersion()</c> of the library that last wrote this image: (major&lt;&lt;16)|(minor&lt;&lt;8)|micro.</summary>
    public uint LibtpmsVersion { get; set; }

    public IReadOnlyCollection<string> Names => _entries.Keys;

    public bool HasPermanentState => _entries.ContainsKey(PermanentName);

    public bool TryGet(string name, out byte[] data) => _entries.TryGetValue(name, out data!);

    public void Set(string name, ReadOnlySpan<byte> data) => _entries[name] = data.ToArray();

    public bool Remove(string name) => _entries.Remove(name);

    public byte[] Serialize()
    {
        int size = Magic.Length + 4 + 2 + _entries.Sum(e => 1 + Encoding.ASCII.GetByteCount(e.Key) + 4 + e.Value.Length);
        var output = new byte[size];
        Span<byte> rest = output;
        Magic.CopyTo(rest);
        rest = rest[Magic.Length..];
        BinaryPrimitives.WriteUInt32BigEndian(rest, LibtpmsVersion);
        BinaryPrimitives.WriteUInt16BigEndian(rest[4..], (ushort)_entries.Count);
        rest = rest[6..];
        foreach (var (name, data) in _entries)
        {
            int nameLength = Encoding.ASCII.GetBytes(name, rest[1..]);
            rest[0] = (byte)nameLength;
            rest = rest[(1 + nameLength)..];
            BinaryPrimitives.WriteUInt32BigEndian(rest, (uint)data.Length);
            data.CopyTo(rest[4..]);
            rest = rest[(4 + data.Length)..];
        }

        return output;
    }

    /// <exception cref="VTpmStateException">The image is malformed (<see cref="VTpmStateFailure.Malformed"/>).</exception>
    public static VTpmStateImage Parse(ReadOnlySpan<byte> source)
    {
        if (source.Length < Magic.Length + 6 || !source[..Magic.Length].SequenceEqual(Magic))
            throw Malformed("it does not start with the TLVTPM01 header");
        var image = new VTpmStateImage(BinaryPrimitives.ReadUInt32BigEndian(source[Magic.Length..]));
        int count = BinaryPrimitives.ReadUInt16BigEndian(source[(Magic.Length + 4)..]);
        ReadOnlySpan<byte> rest = source[(Magic.Length + 6)..];
        for (int i = 0; i < count; i++)
        {
            if (rest.IsEmpty || rest.Length < 1 + rest[0] + 4)
                throw Malformed($"entry {i} is truncated");
            string name = Encoding.ASCII.GetString(rest.Slice(1, rest[0]));
            rest = rest[(1 + rest[0])..];
            uint length = BinaryPrimitives.ReadUInt32BigEndian(rest);
            if (length > MaxEntryLength || length > (uint)(rest.Length - 4))
                throw Malformed($"entry '{name}' claims {length} bytes, {rest.Length - 4} remain");
            image._entries[name] = rest.Slice(4, (int)length).ToArray();
            rest = rest[(4 + (int)length)..];
        }

        if (!rest.IsEmpty)
            throw Malformed($"{rest.Length} bytes follow the last entry");
        return image;
    }

    private static VTpmStateException Malformed(string why) =>
        new(VTpmStateFailure.Malformed, $"the vTPM state is malformed: {why}");
}
