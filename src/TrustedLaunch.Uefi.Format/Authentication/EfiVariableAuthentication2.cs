using System.Buffers.Binary;

namespace TrustedLaunch.Uefi.Format;

/// <summary>
/// <c>EFI_VARIABLE_AUTHENTICATION_2</c> (UEFI 2.10 §8.2.2) followed by the new variable value, as passed to SetVariable for a
/// time-based authenticated write: <c>EFI_TIME TimeStamp; WIN_CERTIFICATE_UEFI_GUID AuthInfo;</c> then the payload.
/// </summary>
/// <param name="TimeStamp">GMT time of the write; edk2 requires the padding fields to be zero.</param>
/// <param name="SignedData">AuthInfo.CertData: DER PKCS#7 SignedData (bare or wrapped in ContentInfo), detached.</param>
/// <param name="Payload">The new value (for PK/KEK/db/dbx a list of EFI_SIGNATURE_LISTs); empty deletes the variable.</param>
public sealed record EfiVariableAuthentication2(EfiTime TimeStamp, ReadOnlyMemory<byte> SignedData, ReadOnlyMemory<byte> Payload)
{
    /// <summary>WIN_CERTIFICATE.wRevision (UEFI 2.10 §32.2.4).</summary>
    public const ushort WinCertificateRevision = 0x0200;

    /// <summary>WIN_CERT_TYPE_EFI_GUID: the certificate is a WIN_CERTIFICATE_UEFI_GUID.</summary>
    public const ushort WinCertificateTypeEfiGuid = 0x0EF1;

    /// <summary>Size of WIN_CERTIFICATE (dwLength, wRevision, wCertificateType) plus the CertType GUID.</summary>
    public const int WinCertificateUefiGuidHeaderSize = 8 + 16;

    /// <summary>Bytes before CertData: the TimeStamp and the WIN_CERTIFICATE_UEFI_GUID header.</summary>
    public const int HeaderSize = EfiTime.Size + WinCertificateUefiGuidHeaderSize;

    /// <summary>Parses a descriptor and its payload; <paramref name="data"/> slices are kept.</summary>
    public static EfiVariableAuthentication2 Parse(ReadOnlyMemory<byte> data)
    {
        if (!TryParse(data, out var result, out string? error))
            throw new UefiFormatException(error!);
        return result!;
    }

    /// <summary>Non-throwing <see cref="Parse"/>.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> data, out EfiVariableAuthentication2? result, out string? error)
    {
        result = null;
        ReadOnlySpan<byte> span = data.Span;
        if (span.Length < HeaderSize)
        {
            error = $"EFI_VARIABLE_AUTHENTICATION_2 truncated: {span.Length} bytes, at least {HeaderSize} needed.";
            return false;
        }

        var time = EfiTime.Read(span);
        ReadOnlySpan<byte> win = span[EfiTime.Size..];
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(win);
        ushort revision = BinaryPrimitives.ReadUInt16LittleEndian(win[4..]);
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(win[6..]);
        var certType = new Guid(win.Slice(8, 16));

        // UEFI 2.10 §32.2.4: dwLength covers the whole WIN_CERTIFICATE_UEFI_GUID including its header.
        if (length < WinCertificateUefiGuidHeaderSize || length > (uint)win.Length)
        {
            error = $"WIN_CERTIFICATE dwLength {length} does not fit the {win.Length} bytes after the timestamp (minimum {WinCertificateUefiGuidHeaderSize}).";
            return false;
        }

        if (revision != WinCertificateRevision)
        {
            error = $"WIN_CERTIFICATE wRevision is 0x{revision:X4}, expected 0x{WinCertificateRevision:X4}.";
            return false;
        }

        if (type != WinCertificateTypeEfiGuid)
        {
            error = $"WIN_CERTIFICATE wCertificateType is 0x{type:X4}, expected WIN_CERT_TYPE_EFI_GUID (0x0EF1).";
            return false;
        }

        if (certType != EfiGuids.CertTypePkcs7)
        {
            error = $"WIN_CERTIFICATE_UEFI_GUID CertType is {certType}, expected EFI_CERT_TYPE_PKCS7_GUID.";
            return false;
        }

        int signedDataStart = HeaderSize;
        int payloadStart = EfiTime.Size + (int)length;
        result = new EfiVariableAuthentication2(time, data[signedDataStart..payloadStart], data[payloadStart..]);
        error = null;
        return true;
    }

    /// <summary>Size when encoded.</summary>
    public int EncodedSize => HeaderSize + SignedData.Length + Payload.Length;

    /// <summary>Serialises descriptor and payload, ready to hand to SetVariable or to write as a .auth file.</summary>
    public byte[] Encode()
    {
        var buffer = new byte[EncodedSize];
        Span<byte> span = buffer;
        TimeStamp.WriteTo(span);
        Span<byte> win = span[EfiTime.Size..];
        BinaryPrimitives.WriteUInt32LittleEndian(win, (uint)(WinCertificateUefiGuidHeaderSize + SignedData.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(win[4..], WinCertificateRevision);
        BinaryPrimitives.WriteUInt16LittleEndian(win[6..], WinCertificateTypeEfiGuid);
        EfiGuids.CertTypePkcs7.TryWriteBytes(win[8..]);
        SignedData.Span.CopyTo(span[HeaderSize..]);
        Payload.Span.CopyTo(span[(HeaderSize + SignedData.Length)..]);
        return buffer;
    }
}
