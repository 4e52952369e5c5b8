using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>Setup mode (no PK: anything may write the databases) or user mode (PK enrolled: writes must be signed).</summary>
public enum PlatformMode
{
    Setup,
    User,
}

/// <summary>One EFI_SIGNATURE_DATA described for people: a certificate's names and thumbprints, or a hash.</summary>
public sealed record SignatureEntrySummary
{
    public required EfiSignatureKind Kind { get; init; }

    public required Guid Owner { get; init; }

    public string? Subject { get; init; }

    public string? Issuer { get; init; }

    public DateTimeOffset? NotBefore { get; init; }

    public DateTimeOffset? NotAfter { get; init; }

    /// <summary>Key algorithm and size, e.g. "RSA-2048".</summary>
    public string? PublicKey { get; init; }

    /// <summary>SHA-256 of the DER certificate, lower-case hex.</summary>
    public string? Sha256Thumbprint { get; init; }

    /// <summary>SHA-1 of the DER certificate (the form FirmwareDefaults.toml and Windows use), lower-case hex.</summary>
    public string? Sha1Thumbprint { get; init; }

    /// <summary>The hash (or TBS hash) for hash-type entries, lower-case hex.</summary>
    public string? Hash { get; init; }

    /// <summary>Why a certificate entry could not be decoded.</summary>
    public string? Error { get; init; }

    public static SignatureEntrySummary Describe(EfiSignatureKind kind, EfiSignatureData entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (kind != EfiSignatureKind.X509)
            return new SignatureEntrySummary { Kind = kind, Owner = entry.Owner, Hash = Convert.ToHexStringLower(entry.Data.Span) };
        var summary = new SignatureEntrySummary
        {
            Kind = kind, Owner = entry.Owner,
            Sha256Thumbprint = Convert.ToHexStringLower(SHA256.HashData(entry.Data.Span)),
            Sha1Thumbprint = Convert.ToHexStringLower(SHA1.HashData(entry.Data.Span)),
        };
        try
        {
            using var cert = X509CertificateLoader.LoadCertificate(entry.Data.Span);
            return summary with
            {
                Subject = cert.Subject, Issuer = cert.Issuer,
                NotBefore = new DateTimeOffset(cert.NotBefore.ToUniversalTime(), TimeSpan.Zero),
                NotAfter = new DateTimeOffset(cert.NotAfter.ToUniversalTime(), TimeSpan.Zero),
                PublicKey = DescribeKey(cert),
            };
        }
        catch (CryptographicException e)
        {
            return summary with { Error = $"not a parsable X.509 certificate: {e.Message}" };
        }
    }

    private static string DescribeKey(X509Certificate2 cert)
    {
        using var rsa = cert.GetRSAPublicKey();
        if (rsa is not null)
            return $"RSA-{rsa.KeySize}";
        using var ec = cert.GetECDsaPublicKey();
        return ec is not null ? $"ECDSA-{ec.KeySize}" : cert.PublicKey.Oid.FriendlyName ?? cert.PublicKey.Oid.Value ?? "unknown";
    }
}

/// <summary>One signature database variable (PK, KEK, db, dbx, …) decoded into its lists.</summary>
public sealed record SignatureDatabase
{
    public required VariableKey Key { get; init; }

    public required EfiVariableAttributes Attributes { get; init; }

    public required EfiTime TimeStamp { get; init; }

    public required int DataSize { get; init; }

    public required IReadOnlyList<EfiSignatureList> Lists { get; init; }

    /// <summary>Why the data is not a valid list of EFI_SIGNATURE_LISTs (the lists parsed before the error are kept).</summary>
    public string? Error { get; init; }

    /// <summary>Every entry of every list, described.</summary>
    public IReadOnlyList<SignatureEntrySummary> Entries => [.. Lists.SelectMany(l => l.Signatures.Select(s => SignatureEntrySummary.Describe(l.Kind, s)))];

    /// <summary>The DER of every X.509 entry.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Certificates =>
        [.. Lists.Where(l => l.Kind == EfiSignatureKind.X509).SelectMany(l => l.Signatures.Select(s => s.Data))];

    /// <summary>Number of hash entries (SHA-*, X509_SHA*).</summary>
    public int HashCount => Lists.Where(l => l.Kind is not (EfiSignatureKind.X509 or EfiSignatureKind.Unknown)).Sum(l => l.Signatures.Count);

    public static SignatureDatabase Decode(UefiVariable variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        bool ok = EfiSignatureList.TryParseAll(variable.Data, out var lists, out string? error, out long offset);
        return new SignatureDatabase
        {
            Key = new VariableKey(variable.VendorGuid, variable.Name),
            Attributes = variable.Attributes,
            TimeStamp = variable.TimeStamp,
            DataSize = variable.Data.Length,
            Lists = lists,
            Error = ok ? null : $"{error} (at data offset {offset})",
        };
    }
}

/// <summary>The Secure Boot databases of a store and the state the firmware will compute from them at boot.</summary>
public sealed record SecureBootDatabases
{
    public SignatureDatabase? PK { get; init; }

    public SignatureDatabase? KEK { get; init; }

    public SignatureDatabase? Db { get; init; }

    public SignatureDatabase? Dbx { get; init; }

    public SignatureDatabase? Dbt { get; init; }

    public SignatureDatabase? MokList { get; init; }

    public SignatureDatabase? MokListX { get; init; }

    /// <summary>User mode when a non-empty PK is enrolled (AuthVariableLibInitialize).</summary>
    public required PlatformMode PlatformMode { get; init; }

    /// <summary>The stored SecureBootEnable byte, or null when absent.</summary>
    public byte? SecureBootEnable { get; init; }

    /// <summary>The stored CustomMode byte, or null when absent; edk2 resets it to 0 at every boot.</summary>
    public byte? CustomMode { get; init; }

    /// <summary>The stored VendorKeysNv byte (1 = unmodified vendor keys), or null when absent.</summary>
    public byte? VendorKeysNv { get; init; }

    /// <summary>
    /// The SecureBoot variable the firmware will compute at boot (AuthVariableLibInitialize): user mode and SecureBootEnable
    /// equal to 1, where an absent SecureBootEnable is created as 1 in user mode. With a Secure Boot firmware build this
    /// means images are verified against db/dbx and refused otherwise.
    /// </summary>
    public bool SecureBootEnforced => PlatformMode == PlatformMode.User && (SecureBootEnable is null || SecureBootEnable == 1);

    public static SecureBootDatabases From(OvmfVariableStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        SignatureDatabase? Get(VariableKey key) => store.TryGet(key.VendorGuid, key.Name, out var v) ? SignatureDatabase.Decode(v) : null;
        byte? Byte(VariableKey key) => store.TryGet(key.VendorGuid, key.Name, out var v) && v.Data.Length >= 1 ? v.Data.Span[0] : null;
        var pk = Get(WellKnownVariables.PK);
        return new SecureBootDatabases
        {
            PK = pk,
            KEK = Get(WellKnownVariables.KEK),
            Db = Get(WellKnownVariables.Db),
            Dbx = Get(WellKnownVariables.Dbx),
            Dbt = Get(WellKnownVariables.Dbt),
            MokList = Get(WellKnownVariables.MokList),
            MokListX = Get(WellKnownVariables.MokListX),
            PlatformMode = pk is { DataSize: > 0 } ? PlatformMode.User : PlatformMode.Setup,
            SecureBootEnable = Byte(WellKnownVariables.SecureBootEnable),
            CustomMode = Byte(WellKnownVariables.CustomMode),
            VendorKeysNv = Byte(WellKnownVariables.VendorKeysNv),
        };
    }

    /// <summary>The databases that are present, in display order.</summary>
    public IEnumerable<SignatureDatabase> All => new[] { PK, KEK, Db, Dbx, Dbt, MokList, MokListX }.Where(d => d is not null)!;
}
