namespace TrustedLaunch.Vmgs.Format;

/// <summary>
/// The fixed numbers of VMGS format version 1 (docs/vmgs.md). All integers are little-endian. Pinned by
/// <c>VmgsLayoutTests</c>: changing any of them is a new format version.
/// </summary>
public static class VmgsLayout
{
    /// <summary>"TLVMGS\r\n": the CR LF catches files mangled by text-mode transfers, as PNG's signature does.</summary>
    public static ReadOnlySpan<byte> Magic => "TLVMGS\r\n"u8;

    /// <summary>The only format version this build reads and writes.</summary>
    public const ushort FormatVersion = 1;

    /// <summary>Allocation unit of the file; extents start and end on it.</summary>
    public const int BlockSize = 4096;

    /// <summary>Each of the two header copies occupies one block: slot 0 at offset 0, slot 1 at offset 4096.</summary>
    public const int HeaderSlotSize = BlockSize;

    /// <summary>Number of header copies.</summary>
    public const int HeaderSlotCount = 2;

    /// <summary>First byte where entry data may live (after both header slots).</summary>
    public const long DataAreaStart = HeaderSlotSize * HeaderSlotCount;

    /// <summary>Size of the fixed part of a header, before the file table.</summary>
    public const int HeaderFixedSize = 176;

    /// <summary>Size of one file-table entry.</summary>
    public const int EntrySize = 64;

    /// <summary>How many entries fit in one header slot.</summary>
    public const int MaxEntries = (HeaderSlotSize - HeaderFixedSize) / EntrySize;

    /// <summary>Largest entry payload: 64 MiB, far above a vTPM state (~64 KiB) or a 4 MiB OVMF store.</summary>
    public const int MaxEntryLength = 64 * 1024 * 1024;

    /// <summary>AES-256 key length; the per-VM data key.</summary>
    public const int DataKeyLength = 32;

    /// <summary>RFC 5649 wrap of a 32-byte key: 8-byte integrity block + 32 bytes.</summary>
    public const int WrappedDataKeyLength = 40;

    /// <summary>Length of the KEK thumbprint stored in the header.</summary>
    public const int KekThumbprintLength = 16;

    /// <summary>HMAC-SHA256 header MAC.</summary>
    public const int HeaderMacLength = 32;

    /// <summary>SHA-256 header checksum.</summary>
    public const int ChecksumLength = 32;

    /// <summary>AES-GCM nonce.</summary>
    public const int NonceLength = 12;

    /// <summary>AES-GCM tag.</summary>
    public const int TagLength = 16;
}

/// <summary>Offsets of the header fields (docs/vmgs.md §2).</summary>
public static class VmgsHeaderOffsets
{
    public const int Magic = 0;
    public const int Version = 8;
    public const int FixedSize = 10;
    public const int CoveredLength = 12;
    public const int Sequence = 16;
    public const int FileId = 24;
    public const int BlockSize = 40;
    public const int EntryCount = 44;
    public const int Flags = 46;
    public const int KeyWrapAlgorithm = 48;
    public const int EntryCipher = 50;
    public const int Reserved = 52;
    public const int KekThumbprint = 56;
    public const int WrappedDataKey = 72;
    public const int HeaderMac = 112;
    public const int Checksum = 144;
}

/// <summary>Offsets inside one 64-byte file-table entry (docs/vmgs.md §3).</summary>
public static class VmgsEntryOffsets
{
    public const int Id = 0;
    public const int Flags = 4;
    public const int Generation = 8;
    public const int Offset = 16;
    public const int Length = 24;
    public const int AllocatedLength = 28;
    public const int Nonce = 32;
    public const int Tag = 44;
    public const int Reserved = 60;
}

/// <summary>How the per-VM data key is wrapped by the host key-encryption key (header offset 48).</summary>
public enum VmgsKeyWrapAlgorithm : ushort
{
    /// <summary>AES-256 key wrap with padding, RFC 5649 (NIST SP 800-38F KWP).</summary>
    Aes256KeyWrapPadded = 1,
}

/// <summary>How entries are encrypted (header offset 50).</summary>
public enum VmgsEntryCipher : ushort
{
    /// <summary>AES-256-GCM, 96-bit random nonce, 128-bit tag, AAD per docs/vmgs.md §4.</summary>
    Aes256Gcm = 1,
}
