namespace TrustedLaunch.Pe.Authenticode.Pe;

/// <summary>One <c>IMAGE_SECTION_HEADER</c> (PE/COFF spec §3, 40 bytes); only the fields Authenticode and SBAT need.</summary>
public readonly record struct PeSection(string Name, uint VirtualSize, uint VirtualAddress, uint SizeOfRawData, uint PointerToRawData)
{
    /// <summary>Size of an encoded section header.</summary>
    public const int HeaderSize = 40;
}

/// <summary>One <c>IMAGE_DATA_DIRECTORY</c>: an address (an RVA, except for the certificate table: a file offset) and a size.</summary>
public readonly record struct PeDataDirectory(uint VirtualAddress, uint Size);

/// <summary>Optional-header magic (PE/COFF spec §3.4).</summary>
public enum PeFormat : ushort
{
    Pe32 = 0x10B,
    Pe32Plus = 0x20B,
}
