using System.Buffers.Binary;

namespace TrustedLaunch.Uefi.Format.VariableStore;

/// <summary>
/// Writes OVMF NV flash files: from scratch for a layout, or by rewriting only the variable region of an existing file
/// (the FV header, the event-log block, the FTW working block and the spare area are kept byte for byte).
/// Variables are written compacted, each State 0x3F, aligned to 4 bytes with 0xFF padding, and the free space is 0xFF
/// (edk2 Variable.c reclaims the store at boot if any free byte is not 0xFF).
/// </summary>
public static class VariableStoreWriter
{
    /// <summary>A new flash file: FV header, formatted healthy store, the variables, 0xFF, a pristine FTW working block and spare.</summary>
    public static byte[] Create(NvFlashLayout layout, IEnumerable<UefiVariable> variables)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var flash = new byte[layout.FileSize];
        flash.AsSpan().Fill(0xFF);
        int headerLength = FirmwareVolumeHeader.ForOvmf(layout.FileSize).WriteTo(flash);
        new VariableStoreHeader(EfiGuids.AuthenticatedVariableStore, layout.VariableStoreSize, VariableStoreHeader.Formatted, VariableStoreHeader.Healthy)
            .WriteTo(flash.AsSpan(headerLength));
        WriteVariables(flash.AsSpan(NvFlashLayout.FirstVariableOffset, layout.VariableRegionSize - NvFlashLayout.FirstVariableOffset), variables);
        FaultTolerantWorkingBlock.WritePristine(flash.AsSpan(layout.FtwWorkingOffset, layout.FtwWorkingSize));
        return flash;
    }

    /// <summary>
    /// A copy of <paramref name="image"/> whose variable region holds exactly <paramref name="variables"/>.
    /// Refuses a file with a pending fault-tolerant write: edk2 would replay it over whatever is written here.
    /// </summary>
    public static byte[] Rewrite(VariableStoreImage image, IEnumerable<UefiVariable> variables)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.FaultTolerantWrite is { State: FaultTolerantWriteState.WritePending } ftw)
            throw new UefiFormatException($"Refusing to edit a store with a pending fault-tolerant write ({ftw.Detail}); boot the VM once so the firmware completes it.") { Offset = ftw.Offset };
        byte[] flash = image.Flash.ToArray();
        int first = image.StoreHeaderOffset + VariableStoreHeader.EncodedSize;
        WriteVariables(flash.AsSpan(first, image.StoreEnd - first), variables);
        return flash;
    }

    /// <summary>Bytes one variable occupies in the store, including alignment padding.</summary>
    public static int RecordSize(UefiVariable variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        return VariableStoreImage.AlignUp4(StoredVariable.AuthenticatedHeaderSize + VariableStoreImage.EncodedNameSize(variable.Name) + variable.Data.Length);
    }

    private static void WriteVariables(Span<byte> region, IEnumerable<UefiVariable> variables)
    {
        region.Fill(0xFF);
        int at = 0;
        foreach (var v in variables)
        {
            if ((v.Attributes & EfiVariableAttributes.AppendWrite) != 0)
                throw new UefiFormatException($"Variable {v.Name} carries APPEND_WRITE, which is never stored.");
            if (v.Name.Length == 0 || v.Name.Contains('\0', StringComparison.Ordinal))
                throw new UefiFormatException($"Variable name '{v.Name}' is empty or contains NUL.");
            int size = RecordSize(v);
            if (size > region.Length - at)
                throw new UefiFormatException($"Variable store full: {v.Name} needs {size} bytes, {region.Length - at} left of {region.Length}.");

            // AUTHENTICATED_VARIABLE_HEADER (SecurityPkg AuthenticatedVariableFormat.h).
            Span<byte> h = region.Slice(at, StoredVariable.AuthenticatedHeaderSize);
            BinaryPrimitives.WriteUInt16LittleEndian(h, StoredVariable.StartId);
            h[2] = StoredVariable.StateAdded;
            h[3] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)v.Attributes);
            BinaryPrimitives.WriteUInt64LittleEndian(h[8..], v.MonotonicCount);
            v.TimeStamp.WriteTo(h[16..]);
            BinaryPrimitives.WriteUInt32LittleEndian(h[32..], v.PubKeyIndex);
            int nameSize = VariableStoreImage.EncodedNameSize(v.Name);
            BinaryPrimitives.WriteUInt32LittleEndian(h[36..], (uint)nameSize);
            BinaryPrimitives.WriteUInt32LittleEndian(h[40..], (uint)v.Data.Length);
            v.VendorGuid.TryWriteBytes(h[44..]);
            int nameAt = at + StoredVariable.AuthenticatedHeaderSize;
            VariableStoreImage.WriteName(v.Name, region[nameAt..]);
            v.Data.Span.CopyTo(region[(nameAt + nameSize)..]);
            at += size; // padding stays 0xFF, as edk2 leaves it
        }
    }
}
