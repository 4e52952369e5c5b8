using System.Buffers.Binary;
using System.Text;

namespace TrustedLaunch.Images.Initramfs;

/// <summary>
/// Reads the <c>.modinfo</c> section of a Linux kernel module (an ELF64 relocatable): NUL-separated <c>key=value</c>
/// strings such as <c>depends=virtio,virtio_ring</c>. Debian ships no modules.dep (depmod runs at install time), so
/// dependencies for the initramfs are read from here, the same place depmod reads them.
/// </summary>
public static class KernelModuleInfo
{
    /// <summary>The modules <paramref name="module"/> depends on (names as the kernel spells them).</summary>
    public static IReadOnlyList<string> ReadDependencies(ReadOnlySpan<byte> module)
    {
        foreach (string entry in ReadModInfo(module))
        {
            if (entry.StartsWith("depends=", StringComparison.Ordinal))
                return entry[8..].Split(',', StringSplitOptions.RemoveEmptyEntries);
        }

        return [];
    }

    /// <summary>Every <c>key=value</c> string of the module's <c>.modinfo</c> section.</summary>
    public static IReadOnlyList<string> ReadModInfo(ReadOnlySpan<byte> elf)
    {
        // ELF64 header (System V gABI): e_ident "\x7fELF", EI_CLASS 2 (64-bit), EI_DATA 1 (little-endian).
        if (elf.Length < 64 || !elf[..4].SequenceEqual("\u007fELF"u8) || elf[4] != 2 || elf[5] != 1)
            throw new ImageException("Not a little-endian ELF64 kernel module.");
        ulong sectionOffset = BinaryPrimitives.ReadUInt64LittleEndian(elf[0x28..]); // e_shoff
        ushort entrySize = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3A..]);    // e_shentsize
        ushort count = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3C..]);        // e_shnum
        ushort namesIndex = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3E..]);   // e_shstrndx
        if (entrySize < 64 || namesIndex >= count || sectionOffset + ((ulong)count * entrySize) > (ulong)elf.Length)
            throw new ImageException("Kernel module section table is out of bounds.");

        ReadOnlySpan<byte> names = Section(elf, sectionOffset + ((ulong)namesIndex * entrySize));
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> header = elf.Slice((int)(sectionOffset + ((ulong)i * entrySize)), 64);
            uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(header); // sh_name
            if (nameOffset >= names.Length)
                continue;
            ReadOnlySpan<byte> name = names[(int)nameOffset..];
            int end = name.IndexOf((byte)0);
            if (end >= 0 && name[..end].SequenceEqual(".modinfo"u8))
            {
                return Encoding.UTF8.GetString(Section(elf, sectionOffset + ((ulong)i * entrySize)))
                    .Split('\0', StringSplitOptions.RemoveEmptyEntries);
            }
        }

        return [];
    }

    private static ReadOnlySpan<byte> Section(ReadOnlySpan<byte> elf, ulong headerOffset)
    {
        ReadOnlySpan<byte> header = elf.Slice((int)headerOffset, 64);
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(header[0x18..]); // sh_offset
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(header[0x20..]);   // sh_size
        if (offset > (ulong)elf.Length || size > (ulong)elf.Length - offset)
            throw new ImageException("Kernel module section is out of bounds.");
        return elf.Slice((int)offset, (int)size);
    }
}
