using System.Text;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>
/// <c>UEFI_VARIABLE_DATA</c> (PFP 1.06 §10.4.3): EV_EFI_VARIABLE_DRIVER_CONFIG, _BOOT, _BOOT2 and _AUTHORITY.
/// For signature-database variables the content is parsed as EFI_SIGNATURE_LISTs; for authority events as the
/// EFI_SIGNATURE_DATA (or, for shim's vendor certificate, the bare DER) that admitted an image.
/// </summary>
public sealed record UefiVariableEventData(Guid VendorGuid, string Name, ReadOnlyMemory<byte> VariableData, int TrailingBytes, bool IsAuthority)
    : TcgEventData
{
    private SignatureDatabase? _database;
    private bool _databaseParsed;
    private string? _databaseError;

    /// <summary>True for PK, KEK (global) and db, dbx, dbt, dbr (image security) and shim's MokList/MokListX/MokListTrusted.</summary>
    public bool IsSignatureDatabase => !IsAuthority && (
        (VendorGuid == EfiGuids.GlobalVariable && Name is "PK" or "KEK") ||
        (VendorGuid == EfiGuids.ImageSecurityDatabase && Name is "db" or "dbx" or "dbt" or "dbr") ||
        (VendorGuid == EfiGuids.ShimLock && Name is "MokList" or "MokListX" or "MokListRT" or "MokListXRT"));

    /// <summary>The parsed signature lists of a database variable; null when not a database or malformed (see <see cref="DatabaseError"/>).</summary>
    public SignatureDatabase? Database
    {
        get
        {
            ParseDatabase();
            return _database;
        }
    }

    public string? DatabaseError
    {
        get
        {
            ParseDatabase();
            return _databaseError;
        }
    }

    /// <summary>For the 1-byte SecureBoot/SetupMode/… booleans: the value; null when the data is not exactly one byte.</summary>
    public byte? ByteValue => VariableData.Length == 1 ? VariableData.Span[0] : null;

    /// <summary>
    /// The authority an EV_EFI_VARIABLE_AUTHORITY event names: an EFI_SIGNATURE_DATA (owner + DER or hash) from db or
    /// MokList, or shim's bare vendor certificate DER (no owner, first bytes 30 82). Null for SbatLevel and other settings.
    /// </summary>
    public SignatureEntry? Authority
    {
        get
        {
            if (!IsAuthority)
                return null;
            ReadOnlySpan<byte> d = VariableData.Span;
            if (d.Length > 4 && d[0] == 0x30 && d[1] == 0x82)
                return new SignatureEntry(EfiSignatureKind.X509, null, VariableData);
            if (d.Length > 20 && d[16] == 0x30 && d[17] == 0x82)
                return new SignatureEntry(EfiSignatureKind.X509, new Guid(d[..16]), VariableData[16..]);
            if (d.Length == 16 + 32)
                return new SignatureEntry(EfiSignatureKind.Sha256, new Guid(d[..16]), VariableData[16..]);
            if (d.Length == 16 + 48)
                return new SignatureEntry(EfiSignatureKind.Sha384, new Guid(d[..16]), VariableData[16..]);
            if (d.Length == 16 + 64)
                return new SignatureEntry(EfiSignatureKind.Sha512, new Guid(d[..16]), VariableData[16..]);
            return null;
        }
    }

    /// <summary>ASCII content for text variables such as SbatLevel; null when not printable.</summary>
    public string? TextValue
    {
        get
        {
            ReadOnlySpan<byte> d = VariableData.Span;
            if (d.IsEmpty)
                return null;
            foreach (byte b in d)
            {
                if (b is not (>= 0x20 and < 0x7F) and not (byte)'\n' and not (byte)'\r' and not 0)
                    return null;
            }

            return Encoding.ASCII.GetString(d).TrimEnd('\0');
        }
    }

    private void ParseDatabase()
    {
        if (_databaseParsed)
            return;
        _databaseParsed = true;
        if (!IsSignatureDatabase)
            return;
        if (EfiSignatureList.TryParseAll(VariableData, out var lists, out string? error, out long offset))
            _database = new SignatureDatabase(lists);
        else
            _databaseError = $"{error} (at byte {offset} of the variable data)";
    }

    public override string Describe()
    {
        string head = $"{Name} ({VendorGuid}) {VariableData.Length} bytes";
        if (IsAuthority)
        {
            if (Authority is { } a)
                return $"{head}: {a.Describe()}";
            return TextValue is { } t ? $"{head}: \"{Printable(t)}\"" : head;
        }

        if (ByteValue is byte b)
            return $"{head}: {b}";
        if (IsSignatureDatabase)
            return Database is { } db ? $"{head}: {db.Describe()}" : $"{head}: malformed ({DatabaseError})";
        return TextValue is { } text && text.Length < 80 ? $"{head}: \"{Printable(text)}\"" : head;
    }
}
