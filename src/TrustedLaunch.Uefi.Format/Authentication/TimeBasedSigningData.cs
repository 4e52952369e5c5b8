using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace TrustedLaunch.Uefi.Format;

/// <summary>The bytes a time-based authenticated write signs (UEFI 2.10 §8.2.2, step 2 of "creating" a descriptor).</summary>
public static class TimeBasedSigningData
{
    /// <summary>
    /// <c>VariableName ‖ VendorGuid ‖ Attributes ‖ TimeStamp ‖ Data</c>: the name as UTF-16LE without its NUL, the GUID in
    /// EFI byte order, the UINT32 attributes exactly as passed to SetVariable (so including APPEND_WRITE when appending),
    /// the EFI_TIME of the descriptor, then the new value.
    /// </summary>
    public static byte[] Build(string variableName, Guid vendorGuid, EfiVariableAttributes attributes, EfiTime timeStamp, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(variableName);
        ReadOnlySpan<byte> name = MemoryMarshal.AsBytes(variableName.AsSpan());
        var buffer = new byte[name.Length + 16 + 4 + EfiTime.Size + payload.Length];
        Span<byte> span = buffer;

        // UTF-16LE: .NET strings are UTF-16 in machine order; write each char little-endian explicitly.
        for (int i = 0; i < variableName.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(span[(2 * i)..], variableName[i]);
        int at = name.Length;
        vendorGuid.TryWriteBytes(span[at..]);
        at += 16;
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], (uint)attributes);
        at += 4;
        timeStamp.WriteTo(span[at..]);
        at += EfiTime.Size;
        payload.CopyTo(span[at..]);
        return buffer;
    }
}
