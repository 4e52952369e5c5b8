using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.SecureBoot.Rollover;

/// <summary>
/// What a signed dbx update (Microsoft's DBXUpdate.bin) carries, read without applying it: its EFI_VARIABLE_AUTHENTICATION_2
/// timestamp and the entries of its EFI_SIGNATURE_LISTs. Microsoft's updates are cumulative, so the entry count orders
/// them: posture's "dbx should be current" compares an attested dbx with the newest one loaded.
/// </summary>
public sealed record DbxUpdateFile(EfiTime TimeStamp, int EntryCount, int HashCount, int CertificateCount)
{
    /// <exception cref="UefiFormatException">Not an EFI_VARIABLE_AUTHENTICATION_2 followed by signature lists.</exception>
    public static DbxUpdateFile Read(ReadOnlyMemory<byte> update)
    {
        if (!EfiVariableAuthentication2.TryParse(update, out EfiVariableAuthentication2? auth, out string? error))
            throw new UefiFormatException($"Not a signed dbx update: {error}");
        if (!EfiSignatureList.TryParseAll(auth!.Payload, out IReadOnlyList<EfiSignatureList> lists, out string? listError, out _))
            throw new UefiFormatException($"The dbx update's payload is not a list of EFI_SIGNATURE_LISTs: {listError}");
        int certificates = lists.Where(l => l.Kind == EfiSignatureKind.X509).Sum(l => l.Signatures.Count);
        int all = lists.Sum(l => l.Signatures.Count);
        return new DbxUpdateFile(auth.TimeStamp, all, all - certificates, certificates);
    }
}
