using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace TrustedLaunch.Pe.Authenticode.Pe;

/// <summary>
/// The parts of a PE32/PE32+ image that Authenticode and Secure Boot look at: the offsets of the checksum and the
/// certificate-table directory entry, SizeOfHeaders, the section table and the attribute certificate table. Every offset
/// is checked against the file, so hashing never reads outside it.
/// </summary>
public sealed class PeImage
{
    // PE/COFF spec §3.4: offsets inside the optional header.
    private const int SizeOfHeadersOffset = 60;
    private const int CheckSumOffset = 64;
    private const int Pe32NumberOfRvaAndSizesOffset = 92;
    private const int Pe32PlusNumberOfRvaAndSizesOffset = 108;
    private const int DataDirectorySize = 8;

    /// <summary>Index of the Certificate Table in the data directories (PE/COFF spec §3.4.3).</summary>
    public const int CertificateTableIndex = 4;

    private PeImage(ReadOnlyMemory<byte> data) => Data = data;

    /// <summary>The whole file.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    public PeFormat Format { get; private init; }

    public ushort Machine { get; private init; }

    /// <summary>File offset of the PE signature ("PE\0\0"): <c>e_lfanew</c>, or 0 without a DOS header.</summary>
    public int PeHeaderOffset { get; private init; }

    /// <summary>File offset of the optional header's CheckSum field (excluded from the Authenticode digest).</summary>
    public int CheckSumFieldOffset { get; private init; }

    /// <summary>File offset of the Certificate Table data-directory entry, or null when NumberOfRvaAndSizes ≤ 4.</summary>
    public int? CertificateDirectoryEntryOffset { get; private init; }

    public uint NumberOfRvaAndSizes { get; private init; }

    public uint SizeOfHeaders { get; private init; }

    /// <summary>Sections in header order.</summary>
    public IReadOnlyList<PeSection> Sections { get; private init; } = [];

    /// <summary>The Certificate Table entry (address is a file offset), or null when the image has no such entry.</summary>
    public PeDataDirectory? CertificateTable { get; private init; }

    /// <summary>True when the image carries an attribute certificate table (edk2: SecDataDir present with Size ≠ 0).</summary>
    public bool HasCertificateTable => CertificateTable is { Size: > 0 };

    /// <summary>Parses <paramref name="data"/>; throws <see cref="AuthenticodeException"/> when malformed.</summary>
    public static PeImage Parse(ReadOnlyMemory<byte> data)
    {
        if (!TryParse(data, out var image, out var error))
            throw error;
        return image;
    }

    /// <summary>Non-throwing <see cref="Parse"/>.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> data, [NotNullWhen(true)] out PeImage? image, [NotNullWhen(false)] out AuthenticodeException? error)
    {
        image = null;
        error = null;
        ReadOnlySpan<byte> file = data.Span;
        var reader = new PeHeaderReader(file);

        // edk2 DxeImageVerificationHandler: with an "MZ" DOS header the PE header is at e_lfanew, otherwise at 0.
        int peOffset = 0;
        if (file.Length >= 2 && file[0] == (byte)'M' && file[1] == (byte)'Z')
        {
            if (!reader.TryUInt32(0x3C, out uint lfanew))
                return Fail(out error, "DOS header truncated: no e_lfanew.", 0x3C);
            if (lfanew > int.MaxValue - 0x1000)
                return Fail(out error, $"e_lfanew 0x{lfanew:X} points far outside the file.", 0x3C);
            peOffset = (int)lfanew;
        }

        if (!reader.TryUInt32(peOffset, out uint signature) || signature != 0x00004550)
            return Fail(out error, $"No PE signature at 0x{peOffset:X}.", peOffset);

        int fileHeader = peOffset + 4;
        if (!reader.TryUInt16(fileHeader, out ushort machine) ||
            !reader.TryUInt16(fileHeader + 2, out ushort sectionCount) ||
            !reader.TryUInt16(fileHeader + 16, out ushort optionalHeaderSize))
        {
            return Fail(out error, "COFF file header truncated.", fileHeader);
        }

        int optional = fileHeader + 20;
        if (!reader.TryUInt16(optional, out ushort magic))
            return Fail(out error, "Optional header truncated: no magic.", optional);
        if (magic is not ((ushort)PeFormat.Pe32 or (ushort)PeFormat.Pe32Plus))
            return Fail(out error, $"Optional header magic 0x{magic:X4} is neither PE32 (0x10B) nor PE32+ (0x20B).", optional);
        var format = (PeFormat)magic;

        if (!reader.TryUInt32(optional + SizeOfHeadersOffset, out uint sizeOfHeaders))
            return Fail(out error, "Optional header truncated: no SizeOfHeaders.", optional + SizeOfHeadersOffset);
        int checkSum = optional + CheckSumOffset;
        int rvaCountOffset = optional + (format == PeFormat.Pe32 ? Pe32NumberOfRvaAndSizesOffset : Pe32PlusNumberOfRvaAndSizesOffset);
        if (!reader.TryUInt32(rvaCountOffset, out uint rvaCount))
            return Fail(out error, "Optional header truncated: no NumberOfRvaAndSizes.", rvaCountOffset);

        if (sizeOfHeaders > (uint)file.Length)
            return Fail(out error, $"SizeOfHeaders 0x{sizeOfHeaders:X} exceeds the {file.Length}-byte file.", optional + SizeOfHeadersOffset);
        if ((long)checkSum + 4 > sizeOfHeaders)
            return Fail(out error, $"SizeOfHeaders 0x{sizeOfHeaders:X} ends before the checksum field.", optional + SizeOfHeadersOffset);

        int? certEntryOffset = null;
        PeDataDirectory? certTable = null;
        if (rvaCount > CertificateTableIndex)
        {
            // PE/COFF spec §3.4.3: the data directories follow NumberOfRvaAndSizes; the Certificate Table is entry 4.
            int entry = rvaCountOffset + 4 + (CertificateTableIndex * DataDirectorySize);
            if ((long)entry + DataDirectorySize > sizeOfHeaders)
                return Fail(out error, $"The certificate directory entry at 0x{entry:X} lies beyond SizeOfHeaders 0x{sizeOfHeaders:X}.", entry);
            if (!reader.TryUInt32(entry, out uint certAddress) || !reader.TryUInt32(entry + 4, out uint certSize))
                return Fail(out error, "Certificate directory entry truncated.", entry);
            certEntryOffset = entry;
            certTable = new PeDataDirectory(certAddress, certSize);
            if (certSize != 0 && (ulong)certAddress + certSize > (ulong)file.Length)
                return Fail(out error, $"Certificate table [0x{certAddress:X}, +0x{certSize:X}) lies outside the {file.Length}-byte file.", entry);
        }

        long sectionTable = (long)optional + optionalHeaderSize;
        if (sectionTable + ((long)sectionCount * PeSection.HeaderSize) > file.Length)
            return Fail(out error, $"{sectionCount} section headers at 0x{sectionTable:X} do not fit the file.", sectionTable);

        var sections = new PeSection[sectionCount];
        for (int i = 0; i < sectionCount; i++)
        {
            int at = (int)sectionTable + (i * PeSection.HeaderSize);
            ReadOnlySpan<byte> header = file.Slice(at, PeSection.HeaderSize);
            var section = new PeSection(
                DecodeName(header[..8]),
                BinaryPrimitives.ReadUInt32LittleEndian(header[8..]),
                BinaryPrimitives.ReadUInt32LittleEndian(header[12..]),
                BinaryPrimitives.ReadUInt32LittleEndian(header[16..]),
                BinaryPrimitives.ReadUInt32LittleEndian(header[20..]));
            if (section.SizeOfRawData != 0 && (ulong)section.PointerToRawData + section.SizeOfRawData > (ulong)file.Length)
            {
                return Fail(out error,
                    $"Section {i} '{section.Name}' raw data [0x{section.PointerToRawData:X}, +0x{section.SizeOfRawData:X}) lies outside the {file.Length}-byte file.", at);
            }

            sections[i] = section;
        }

        image = new PeImage(data)
        {
            Format = format,
            Machine = machine,
            PeHeaderOffset = peOffset,
            CheckSumFieldOffset = checkSum,
            CertificateDirectoryEntryOffset = certEntryOffset,
            NumberOfRvaAndSizes = rvaCount,
            SizeOfHeaders = sizeOfHeaders,
            Sections = sections,
            CertificateTable = certTable,
        };
        return true;
    }

    /// <summary>The raw bytes of the first section named <paramref name="name"/> (e.g. ".sbat"), or null.</summary>
    public ReadOnlyMemory<byte>? FindSectionData(string name)
    {
        foreach (var s in Sections)
        {
            if (string.Equals(s.Name, name, StringComparison.Ordinal))
            {
                // Raw data may be padded beyond VirtualSize with zeros; the meaningful part is min(VirtualSize, SizeOfRawData).
                uint size = s.VirtualSize == 0 ? s.SizeOfRawData : Math.Min(s.VirtualSize, s.SizeOfRawData);
                // Only sections with raw data had their PointerToRawData checked against the file (TryParse).
                return size == 0 ? ReadOnlyMemory<byte>.Empty : Data.Slice((int)s.PointerToRawData, (int)size);
            }
        }

        return null;
    }

    private static string DecodeName(ReadOnlySpan<byte> name)
    {
        int end = name.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? name : name[..end]);
    }

    private static bool Fail(out AuthenticodeException error, string message, long offset)
    {
        error = new AuthenticodeException(AuthenticodeFailure.MalformedImage, message) { Offset = offset };
        return false;
    }

    /// <summary>Bounds-checked little-endian reads at absolute offsets; a read past the end reports failure.</summary>
    private readonly ref struct PeHeaderReader(ReadOnlySpan<byte> file)
    {
        private readonly ReadOnlySpan<byte> _file = file;

        public bool TryUInt16(long offset, out ushort value)
        {
            value = 0;
            if (offset < 0 || offset + sizeof(ushort) > _file.Length)
                return false;
            value = BinaryPrimitives.ReadUInt16LittleEndian(_file[(int)offset..]);
            return true;
        }

        public bool TryUInt32(long offset, out uint value)
        {
            value = 0;
            if (offset < 0 || offset + sizeof(uint) > _file.Length)
                return false;
            value = BinaryPrimitives.ReadUInt32LittleEndian(_file[(int)offset..]);
            return true;
        }
    }
}
