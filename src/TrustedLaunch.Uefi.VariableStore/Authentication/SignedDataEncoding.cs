using System.Formats.Asn1;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>
/// The two DER forms of AuthInfo.CertData (UEFI 2.10 §8.2.2): a bare PKCS#7 <c>SignedData</c> (efitools, Microsoft dbx
/// updates) or one wrapped in a <c>ContentInfo</c> (OpenSSL cms, .NET SignedCms.Encode), and the fixed-offset digest check
/// edk2 VerifyTimeBasedPayload makes before it parses anything.
/// </summary>
public static class SignedDataEncoding
{
    private const string SignedDataOid = "1.2.840.113549.1.7.2";

    // DER of OID 2.16.840.1.101.3.4.2.1 (id-sha256) without tag and length: what edk2 compares at a fixed offset.
    private static readonly byte[] Sha256OidValue = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

    /// <summary>True when <paramref name="der"/> is a ContentInfo (SEQUENCE starting with an OBJECT IDENTIFIER).</summary>
    public static bool IsContentInfo(ReadOnlySpan<byte> der)
    {
        try
        {
            var reader = new AsnReader(der.ToArray(), AsnEncodingRules.BER);
            var seq = reader.ReadSequence();
            return seq.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier);
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    /// <summary>The ContentInfo form (what <see cref="System.Security.Cryptography.Pkcs.SignedCms.Decode(byte[])"/> needs).</summary>
    public static byte[] ToContentInfo(ReadOnlySpan<byte> der)
    {
        if (IsContentInfo(der))
            return der.ToArray();
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(SignedDataOid);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                writer.WriteEncodedValue(der);
        }

        return writer.Encode();
    }

    /// <summary>The bare SignedData form, as efitools and Microsoft emit it and every edk2 version accepts.</summary>
    public static byte[] ToBareSignedData(ReadOnlySpan<byte> der)
    {
        if (!IsContentInfo(der))
            return der.ToArray();
        var reader = new AsnReader(der.ToArray(), AsnEncodingRules.DER);
        var contentInfo = reader.ReadSequence();
        string oid = contentInfo.ReadObjectIdentifier();
        if (oid != SignedDataOid)
            throw new AsnContentException($"ContentInfo type {oid} is not signedData.");
        var explicitContent = contentInfo.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true));
        return explicitContent.ReadEncodedValue().ToArray();
    }

    /// <summary>
    /// edk2 VerifyTimeBasedPayload: the byte after the first tag must have the 0x82 (two-byte length) form and the SHA-256
    /// OID must sit at offset 13 of a bare SignedData or 32 of a ContentInfo (edk2 accepts both forms). edk2 before 2023-09,
    /// which includes Debian 12's, accepts only SHA-256. Returns why edk2 would refuse the blob, or null.
    /// </summary>
    public static string? CheckEdk2Shape(ReadOnlySpan<byte> der)
    {
        if (der.Length < 256 || der.Length > 0xFFFF)
            return $"PKCS#7 blob is {der.Length} bytes; edk2 reads its DER lengths at fixed offsets that assume 256..65535 bytes.";
        if ((der[1] & 0x82) != 0x82)
            return $"PKCS#7 blob's outer length byte is 0x{der[1]:X2}, edk2 requires the 0x82 two-byte form.";
        bool wrapped = IsContentInfo(der);
        int offset = wrapped ? 32 : 13;
        if (der.Length < offset + Sha256OidValue.Length || !der.Slice(offset, Sha256OidValue.Length).SequenceEqual(Sha256OidValue))
            return $"SignedData.digestAlgorithms does not hold SHA-256 at offset {offset}; Debian 12's edk2 accepts only SHA-256 there.";
        return null;
    }
}
