namespace TrustedLaunch.Uefi.Format.VariableStore;

/// <summary>
/// Where the regions of an OVMF NV flash file lie (OvmfPkg/Include/Fdf/VarStore.fdf.inc): the variable store (FV header +
/// VARIABLE_STORE_HEADER + variables), an unused event-log block, the FTW working block and the FTW spare area.
/// </summary>
public sealed record NvFlashLayout(int FileSize, int VariableRegionSize, int FtwWorkingOffset, int FtwWorkingSize, int FtwSpareOffset, int FtwSpareSize)
{
    /// <summary>The 4 MB OVMF build (<c>OVMF_VARS_4M.fd</c>): 0x84000 bytes, a 0x40000-byte variable region.</summary>
    public static NvFlashLayout Ovmf4M { get; } = new(0x84000, 0x40000, 0x41000, 0x1000, 0x42000, 0x42000);

    /// <summary>The 2 MB (and 1 MB) OVMF build (<c>OVMF_VARS.fd</c>): 0x20000 bytes, a 0xE000-byte variable region.</summary>
    public static NvFlashLayout Ovmf2M { get; } = new(0x20000, 0xE000, 0xF000, 0x1000, 0x10000, 0x10000);

    /// <summary>The layout whose file size is <paramref name="fileSize"/>, or null for a size OVMF does not build.</summary>
    public static NvFlashLayout? ForFileSize(long fileSize) => fileSize switch
    {
        0x84000 => Ovmf4M,
        0x20000 => Ovmf2M,
        _ => null,
    };

    /// <summary>Offset of the first variable header: after the 0x48-byte FV header and the 28-byte store header.</summary>
    public const int FirstVariableOffset = 0x48 + VariableStoreHeader.EncodedSize;

    /// <summary>VARIABLE_STORE_HEADER.Size: the region less the FV header.</summary>
    public uint VariableStoreSize => (uint)(VariableRegionSize - 0x48);
}
