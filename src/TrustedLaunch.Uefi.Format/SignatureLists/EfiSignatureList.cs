using System.Buffers.Binary;

namespace TrustedLaunch.Uefi.Format;

/// <summary>One <c>EFI_SIGNATURE_DATA</c>: owner GUID and payload (a hash, a DER certificate, …).</summary>
public sealed record EfiSignatureData(Guid Owner, ReadOnlyMemory<byte> Data);

/// <summary><c>EFI_SIGNATURE_LIST</c> (UEFI 2.10 §32.4.1): signatures of one type and size.</summary>
public sealed record EfiSignatureList(Guid SignatureType, ReadOnlyMemory<byte> SignatureHeader, IReadOnlyList<EfiSignatureData> Signatures)
{
    /// <summary>Size of the fixed list header: GUID + three UINT32.</summary>
    public const int HeaderSize = 28;

    /// <summary>Size of the owner GUID that starts each <c>EFI_SIGNATURE_DATA</c>.</summary>
    public const int OwnerSize = 16;

    public EfiSignatureKind Kind => EfiSignatureType.KindOf(SignatureType);

    /// <summary>Size of this list when serialised.</summary>
    public int EncodedSize => HeaderSize + SignatureHeader.Length + (Signatures.Count == 0 ? 0 : Signatures.Count * (OwnerSize + Signatures[0].Data.Length));

    /// <summary>Parses a variable's payload: a concatenation of signature lists that must exactly fill it.</summary>
    /// <remarks>Slices of <paramref name="data"/> are kept; the caller must not mutate it afterwards.</remarks>
    public static IReadOnlyList<EfiSignatureList> ParseAll(ReadOnlyMemory<byte> data)
    {
        if (!TryParseAll(data, out var lists, out var error, out long offset))
            throw new UefiFormatException(error!) { Offset = offset };
        return lists;
    }

    /// <summary>Non-throwing <see cref="ParseAll"/>; on failure reports the reason and byte offset.</summary>
    public static bool TryParseAll(ReadOnlyMemory<byte> data, out IReadOnlyList<EfiSignatureList> lists, out string? error, out long errorOffset)
    {
        var result = new List<EfiSignatureList>();
        lists = result;
        ReadOnlySpan<byte> span = data.Span;
        int pos = 0;
        while (pos < span.Length)
        {
            errorOffset = pos;
            if (span.Length - pos < HeaderSize)
            {
                error = $"EFI_SIGNATURE_LIST header truncated: {span.Length - pos} bytes left, {HeaderSize} needed.";
                return false;
            }

            var type = new Guid(span.Slice(pos, 16));
            uint listSize = BinaryPrimitives.ReadUInt32LittleEndian(span[(pos + 16)..]);
            uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(span[(pos + 20)..]);
            uint signatureSize = BinaryPrimitives.ReadUInt32LittleEndian(span[(pos + 24)..]);

            // Overflow-safe: all three are UINT32, compared as 64-bit sums against what remains.
            if (listSize > (uint)(span.Length - pos) || (ulong)HeaderSize + headerSize > listSize)
            {
                error = $"EFI_SIGNATURE_LIST size {listSize} (header {headerSize}) does not fit the {span.Length - pos} bytes left.";
                return false;
            }

            uint bodySize = listSize - HeaderSize - headerSize;
            if (signatureSize < OwnerSize || bodySize % signatureSize != 0)
            {
                error = $"EFI_SIGNATURE_LIST SignatureSize {signatureSize} does not divide the {bodySize}-byte body or is below {OwnerSize}.";
                return false;
            }

            var kind = EfiSignatureType.KindOf(type);
            if (EfiSignatureType.FixedDataSize(kind) is int expected && signatureSize != expected + OwnerSize)
            {
                error = $"EFI_SIGNATURE_LIST of type {kind} has SignatureSize {signatureSize}, expected {expected + OwnerSize}.";
                return false;
            }

            int headerStart = pos + HeaderSize;
            int bodyStart = headerStart + (int)headerSize;
            int count = (int)(bodySize / signatureSize);
            var signatures = new EfiSignatureData[count];
            for (int i = 0; i < count; i++)
            {
                int at = bodyStart + (i * (int)signatureSize);
                signatures[i] = new EfiSignatureData(new Guid(span.Slice(at, OwnerSize)), data.Slice(at + OwnerSize, (int)signatureSize - OwnerSize));
            }

            result.Add(new EfiSignatureList(type, data.Slice(headerStart, (int)headerSize), signatures));
            pos += (int)listSize;
        }

        error = null;
        errorOffset = -1;
        return true;
    }

    /// <summary>Writes this list into <paramref name="destination"/>; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        int signatureSize = Signatures.Count == 0 ? OwnerSize : OwnerSize + Signatures[0].Data.Length;
        foreach (var s in Signatures)
        {
            if (OwnerSize + s.Data.Length != signatureSize)
                throw new UefiFormatException("All signatures in one EFI_SIGNATURE_LIST must have the same size.");
        }

        int size = EncodedSize;
        if (destination.Length < size)
            throw new ArgumentException($"Destination holds {destination.Length} bytes, {size} needed.", nameof(destination));
        SignatureType.TryWriteBytes(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], (uint)SignatureHeader.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], (uint)signatureSize);
        SignatureHeader.Span.CopyTo(destination[HeaderSize..]);
        int at = HeaderSize + SignatureHeader.Length;
        foreach (var s in Signatures)
        {
            s.Owner.TryWriteBytes(destination[at..]);
            s.Data.Span.CopyTo(destination[(at + OwnerSize)..]);
            at += signatureSize;
        }

        return size;
    }

    /// <summary>Serialises several lists back to back, as a PK/KEK/db/dbx variable holds them.</summary>
    public static byte[] Encode(IEnumerable<EfiSignatureList> lists)
    {
        var all = lists.ToList();
        var buffer = new byte[all.Sum(l => l.EncodedSize)];
        int at = 0;
        foreach (var list in all)
            at += list.WriteTo(buffer.AsSpan(at));
        return buffer;
    }
}
