using System.Buffers.Binary;
using TrustedLaunch.Pe.Authenticode.Pe;

namespace TrustedLaunch.Pe.Authenticode.Signatures;

/// <summary>
/// One entry of the attribute certificate table: <c>WIN_CERTIFICATE { u32 dwLength; u16 wRevision; u16 wCertificateType; }</c>
/// (PE/COFF spec §4.7, UEFI 2.10 §32.2.4).
/// </summary>
public sealed record WinCertificate
{
    /// <summary><c>WIN_CERT_TYPE_PKCS_SIGNED_DATA</c>: a PKCS#7 ContentInfo follows the 8-byte header.</summary>
    public const ushort TypePkcsSignedData = 0x0002;

    /// <summary><c>WIN_CERT_TYPE_EFI_GUID</c>: a CertType GUID, then the data; PKCS#7 when the GUID is EFI_CERT_TYPE_PKCS7_GUID.</summary>
    public const ushort TypeEfiGuid = 0x0EF1;

    /// <summary>Size of the WIN_CERTIFICATE header.</summary>
    public const int HeaderSize = 8;

    /// <summary><c>EFI_CERT_TYPE_PKCS7_GUID</c> (UEFI 2.10 §32.2.4).</summary>
    public static readonly Guid CertTypePkcs7 = new("4aafd29d-68df-49ee-8aa9-347d375665a7");

    public required int Offset { get; init; }

    public required uint Length { get; init; }

    public required ushort Revision { get; init; }

    public required ushort CertificateType { get; init; }

    /// <summary>The DER PKCS#7 this entry carries, or empty when the entry holds something the firmware skips.</summary>
    public required ReadOnlyMemory<byte> Pkcs7 { get; init; }

    public bool IsAuthenticode => !Pkcs7.IsEmpty;
}

/// <summary>The attribute certificate table walked exactly as edk2's DxeImageVerificationHandler walks it.</summary>
public sealed record AttributeCertificateTable(IReadOnlyList<WinCertificate> Entries, bool EndsAtTableEnd)
{
    /// <summary>
    /// Walks the table. Entries are 8-byte aligned; the walk stops (as edk2's does) at an entry that is too short, too long
    /// or not followed by its padding, and <see cref="EndsAtTableEnd"/> is then false, which the firmware treats as a
    /// corrupted table (the image is refused even if an earlier signature verified).
    /// </summary>
    public static AttributeCertificateTable Read(PeImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var entries = new List<WinCertificate>();
        if (image.CertificateTable is not { Size: > 0 } table)
            return new AttributeCertificateTable(entries, true);

        ReadOnlySpan<byte> file = image.Data.Span;
        uint end = table.VirtualAddress + table.Size; // PeImage checked that this lies within the file.
        uint offset = table.VirtualAddress;
        while (offset < end)
        {
            uint left = end - offset;
            if (left <= HeaderSizeU)
                break;
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(file[(int)offset..]);
            if (left < length || left - length < Padding(length))
                break;
            ushort revision = BinaryPrimitives.ReadUInt16LittleEndian(file[((int)offset + 4)..]);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(file[((int)offset + 6)..]);
            ReadOnlyMemory<byte> pkcs7 = ReadOnlyMemory<byte>.Empty;
            if (type == WinCertificate.TypePkcsSignedData)
            {
                if (length <= HeaderSizeU)
                    break;
                pkcs7 = image.Data.Slice((int)offset + WinCertificate.HeaderSize, (int)length - WinCertificate.HeaderSize);
            }
            else if (type == WinCertificate.TypeEfiGuid)
            {
                // WIN_CERTIFICATE_UEFI_GUID: header, then the CertType GUID at +8, data from +24.
                if (length <= 24)
                    break;
                if (new Guid(file.Slice((int)offset + 8, 16)) == WinCertificate.CertTypePkcs7)
                    pkcs7 = image.Data.Slice((int)offset + 24, (int)length - 24);
            }
            else if (length < HeaderSizeU)
            {
                break;
            }

            entries.Add(new WinCertificate { Offset = (int)offset, Length = length, Revision = revision, CertificateType = type, Pkcs7 = pkcs7 });
            offset += length + Padding(length);
        }

        return new AttributeCertificateTable(entries, offset == end);
    }

    private const uint HeaderSizeU = WinCertificate.HeaderSize;

    private static uint Padding(uint length) => length % 8 == 0 ? 0 : 8 - (length % 8);
}
