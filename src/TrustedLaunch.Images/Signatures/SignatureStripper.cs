using System.Buffers.Binary;

namespace TrustedLaunch.Images.Signatures;

/// <summary>
/// Removes signatures to make deliberately untrusted boot files for tests and the <c>--unsigned-grub</c> image:
/// the Authenticode certificate table of a PE image (what <c>sbattach --remove</c> does) and the appended signature
/// of a kernel module (what the corpus guest's stripped ttyprintk.ko was made with).
/// </summary>
public static class SignatureStripper
{
    private static readonly byte[] ModuleSignatureMagic = "~Module signature appended~\n"u8.ToArray();

    /// <summary>The PE image without its certificate table, the security directory entry zeroed.</summary>
    public static byte[] StripAuthenticode(ReadOnlySpan<byte> image)
    {
        // PE/COFF spec: e_lfanew at 0x3C → "PE\0\0", COFF header (20 bytes), optional header whose magic selects
        // PE32 (0x10B, data directories at +96) or PE32+ (0x20B, at +112); entry 4 is the Certificate Table.
        if (image.Length < 0x40 || image[0] != 'M' || image[1] != 'Z')
            throw new ImageException("Not a PE image (no MZ header).");
        int pe = BinaryPrimitives.ReadInt32LittleEndian(image[0x3C..]);
        if (pe < 0 || pe > image.Length - 24 || !image.Slice(pe, 4).SequenceEqual("PE\0\0"u8))
            throw new ImageException("Not a PE image (no PE signature).");
        int optional = pe + 24;
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(image[optional..]);
        int directories = optional + magic switch
        {
            0x10B => 96,
            0x20B => 112,
            _ => throw new ImageException($"Unknown PE optional header magic 0x{magic:X4}."),
        };
        int securityEntry = directories + (4 * 8);
        if (securityEntry + 8 > image.Length)
            throw new ImageException("PE data directories are truncated.");
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(image[securityEntry..]);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(image[(securityEntry + 4)..]);
        if (size == 0)
            return image.ToArray(); // already unsigned
        if (offset > image.Length || size > image.Length - offset)
            throw new ImageException("PE certificate table is out of bounds.");
        // The certificate table is the last thing in a signed image (Authenticode excludes it from the hash);
        // cut it off and clear the directory entry.
        byte[] result = image[..(int)offset].ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(securityEntry), 0);
        // The optional header's CheckSum is left as it was: firmware and Authenticode both ignore it (the hash skips it).
        return result;
    }

    /// <summary>The module without its appended signature (include/linux/module_signature.h).</summary>
    public static byte[] StripModuleSignature(ReadOnlySpan<byte> module)
    {
        if (!module.EndsWith(ModuleSignatureMagic))
            return module.ToArray(); // unsigned already
        // struct module_signature (12 bytes) precedes the magic; its last field is sig_len, big-endian.
        int descriptor = module.Length - ModuleSignatureMagic.Length - 12;
        if (descriptor < 0)
            throw new ImageException("Module signature trailer is truncated.");
        uint signatureLength = BinaryPrimitives.ReadUInt32BigEndian(module[(descriptor + 8)..]);
        if (signatureLength > (uint)descriptor)
            throw new ImageException("Module signature length exceeds the module.");
        return module[..(descriptor - (int)signatureLength)].ToArray();
    }
}
