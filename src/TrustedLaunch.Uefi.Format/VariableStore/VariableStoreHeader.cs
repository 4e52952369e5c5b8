using System.Buffers.Binary;

namespace TrustedLaunch.Uefi.Format.VariableStore;

/// <summary><c>VARIABLE_STORE_HEADER</c> (MdeModulePkg/Include/Guid/VariableFormat.h), 28 bytes after the FV header.</summary>
/// <param name="Signature">gEfiAuthenticatedVariableGuid for OVMF (authenticated headers), gEfiVariableGuid otherwise.</param>
/// <param name="Size">Bytes covered by this header and the variables that follow it.</param>
/// <param name="Format">VARIABLE_STORE_FORMATTED (0x5A) once formatted.</param>
/// <param name="State">VARIABLE_STORE_HEALTHY (0xFE) when healthy.</param>
public sealed record VariableStoreHeader(Guid Signature, uint Size, byte Format, byte State)
{
    public const int EncodedSize = 28;
    public const byte Formatted = 0x5A;
    public const byte Healthy = 0xFE;

    /// <summary>True for the authenticated-variable layout (60-byte variable headers).</summary>
    public bool IsAuthenticated => Signature == EfiGuids.AuthenticatedVariableStore;

    public static VariableStoreHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < EncodedSize)
            throw new UefiFormatException($"VARIABLE_STORE_HEADER truncated: {source.Length} bytes, {EncodedSize} needed.");
        return new VariableStoreHeader(new Guid(source[..16]), BinaryPrimitives.ReadUInt32LittleEndian(source[16..]), source[20], source[21]);
    }

    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length < EncodedSize)
            throw new ArgumentException($"Destination holds {destination.Length} bytes, {EncodedSize} needed.", nameof(destination));
        Signature.TryWriteBytes(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], Size);
        destination[20] = Format;
        destination[21] = State;
        destination.Slice(22, 6).Clear();
    }
}
