using System.Buffers.Binary;

namespace TrustedLaunch.Vmgs.Format;

/// <summary>
/// The AES-GCM associated data of an entry (docs/vmgs.md §4): magic, version, file id, entry id, generation,
/// length. An entry's ciphertext therefore only authenticates in the file it was written to, under the id
/// and at the generation the file table records.
/// </summary>
public static class VmgsEntryAad
{
    /// <summary>8 magic + 2 version + 16 file id + 4 id + 8 generation + 4 length.</summary>
    public const int Length = 42;

    public static byte[] Build(Guid fileId, VmgsEntryId id, ulong generation, int length)
    {
        var aad = new byte[Length];
        Span<byte> s = aad;
        VmgsLayout.Magic.CopyTo(s);
        BinaryPrimitives.WriteUInt16LittleEndian(s[8..], VmgsLayout.FormatVersion);
        fileId.TryWriteBytes(s[10..]);
        BinaryPrimitives.WriteUInt32LittleEndian(s[26..], (uint)id);
        BinaryPrimitives.WriteUInt64LittleEndian(s[30..], generation);
        BinaryPrimitives.WriteUInt32LittleEndian(s[38..], (uint)length);
        return aad;
    }
}
