namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>The variable a Microsoft CA is enrolled in.</summary>
public enum MicrosoftCertificateDatabase
{
    /// <summary>KEK: signs db/dbx updates.</summary>
    Kek,

    /// <summary>db: admits boot images that chain to it.</summary>
    Db,
}

/// <summary>A Microsoft Secure Boot CA embedded in this assembly, with the SHA-256 its DER must have.</summary>
public sealed class MicrosoftCertificate
{
    private readonly Lazy<ReadOnlyMemory<byte>> _der;

    internal MicrosoftCertificate(string commonName, MicrosoftCertificateDatabase database, int generation, string fileName, string sha256)
    {
        CommonName = commonName;
        Database = database;
        Generation = generation;
        FileName = fileName;
        Sha256 = sha256;
        _der = new Lazy<ReadOnlyMemory<byte>>(() => MicrosoftCertificates.LoadPinned(fileName, sha256));
    }

    /// <summary>Subject CN, e.g. "Microsoft UEFI CA 2023".</summary>
    public string CommonName { get; }

    public MicrosoftCertificateDatabase Database { get; }

    /// <summary>2011 (expired in 2026, still honoured by firmware) or 2023.</summary>
    public int Generation { get; }

    /// <summary>The file name in Microsoft's secureboot_objects repository (and of the embedded resource).</summary>
    public string FileName { get; }

    /// <summary>The pinned SHA-256 of the DER certificate, lowercase hex.</summary>
    public string Sha256 { get; }

    /// <summary>The DER certificate; loading a resource that does not hash to <see cref="Sha256"/> throws <see cref="MicrosoftCertificateException"/>.</summary>
    public ReadOnlyMemory<byte> Der => _der.Value;

    public override string ToString() => $"{CommonName} ({(Database == MicrosoftCertificateDatabase.Kek ? "KEK" : "db")})";
}
