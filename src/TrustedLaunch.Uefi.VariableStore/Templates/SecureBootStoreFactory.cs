using System.Security.Cryptography;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>Which keys a new store starts with (names and Microsoft keys: <see cref="SecureBootTemplates"/>).</summary>
public enum SecureBootTemplate
{
    /// <summary>No variables at all (like Debian's OVMF_VARS_4M.fd): setup mode, Secure Boot off.</summary>
    Empty,

    /// <summary>
    /// Microsoft's recommendation for compatibility during the 2023 rollover: both KEKs (KEK CA 2011, KEK 2K CA 2023) and
    /// the 2011 and 2023 CAs in db; the platform's PK.
    /// </summary>
    Microsoft,

    /// <summary>Only the customer's PK, KEK, db and dbx.</summary>
    Custom,

    /// <summary>Only the 2023 CAs: KEK 2K CA 2023; Windows UEFI CA 2023, Microsoft UEFI CA 2023, Option ROM UEFI CA 2023.</summary>
    Microsoft2023,

    /// <summary>The pre-2023 set, for reproducing older VMs: KEK CA 2011; Windows Production PCA 2011, UEFI CA 2011 (Debian 12's .ms.fd).</summary>
    Microsoft2011,
}

/// <summary>What to put in a new variable store.</summary>
public sealed record SecureBootStoreOptions
{
    /// <summary>Owner GUID of TrustedLaunch-enrolled entries that were not given one (a fixed, project-specific GUID).</summary>
    public static readonly Guid TrustedLaunchOwner = new("38f3b8d6-7094-4997-bc1b-1008ad182f1e");

    /// <summary>
    /// Timestamp of the enrolled PK/KEK/db/dbx: 2010-01-01T00:00:00Z. Offline enrolment bypasses authentication, so the
    /// stored time only matters for later signed updates, which must be strictly newer (edk2
    /// AuthServiceInternalCompareTimeStamp); an old fixed time keeps every real signed update (Microsoft's dbx blobs are
    /// dated 2010-03-06) applicable, and makes the output reproducible.
    /// </summary>
    public static readonly EfiTime DefaultEnrolmentTime = new(2010, 1, 1, 0, 0, 0);

    public SecureBootTemplate Template { get; init; } = SecureBootTemplate.Microsoft;

    public NvFlashLayout Layout { get; init; } = NvFlashLayout.Ovmf4M;

    /// <summary>The PK certificate (DER). Required unless the template is Empty.</summary>
    public ReadOnlyMemory<byte>? PlatformKey { get; init; }

    /// <summary>KEK entries beyond the template's (Custom: all of KEK).</summary>
    public IReadOnlyList<SignatureDatabaseEntry> Kek { get; init; } = [];

    /// <summary>db entries beyond the template's (Custom: all of db).</summary>
    public IReadOnlyList<SignatureDatabaseEntry> Db { get; init; } = [];

    /// <summary>dbx entries. When empty, dbx holds the placeholder SHA-256("") entry that OVMF and virt-firmware enroll.</summary>
    public IReadOnlyList<SignatureDatabaseEntry> Dbx { get; init; } = [];

    /// <summary>Owner GUID of the PK entry.</summary>
    public Guid Owner { get; init; } = TrustedLaunchOwner;

    public EfiTime EnrolmentTime { get; init; } = DefaultEnrolmentTime;
}

/// <summary>
/// Builds a variable store from scratch (not by copying a file) holding exactly what the firmware needs for Secure Boot
/// to be enforcing at first boot: PK/KEK/db/dbx as time-based authenticated variables (0x27), SecureBootEnable=1,
/// CustomMode=0, VendorKeysNv=0 and an empty certdb, which mirrors what OVMF EnrollDefaultKeys leaves in
/// OVMF_VARS_4M.ms.fd (without the boot-option history).
/// </summary>
public static class SecureBootStoreFactory
{
    /// <summary>The placeholder dbx entry: SHA-256 of the empty string, owner OVMF EnrollDefaultKeys (as in OVMF_VARS_4M.ms.fd).</summary>
    public static SignatureDatabaseEntry PlaceholderDbxEntry { get; } =
        new(EfiSignatureKind.Sha256, EfiGuids.OvmfEnrollDefaultKeys, SHA256.HashData(ReadOnlySpan<byte>.Empty));

    public static OvmfVariableStore Create(SecureBootStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var store = OvmfVariableStore.CreateEmpty(options.Layout);
        if (options.Template == SecureBootTemplate.Empty)
        {
            if (options.PlatformKey is not null || options.Kek.Count > 0 || options.Db.Count > 0 || options.Dbx.Count > 0)
                throw new VariableStoreException("The empty template takes no keys (Secure Boot off); use --template custom or microsoft to enroll keys.");
            return store;
        }

        if (options.PlatformKey is not { } pkDer)
            throw new VariableStoreException($"The {SecureBootTemplates.NameOf(options.Template)} template needs a platform key (PK) certificate.");
        var pk = SignatureDatabaseEntry.FromCertificate(pkDer.Span, options.Owner);

        var kek = new List<SignatureDatabaseEntry>();
        var db = new List<SignatureDatabaseEntry>();
        foreach (MicrosoftCertificate certificate in SecureBootTemplates.MicrosoftKeys(options.Template))
        {
            var entry = new SignatureDatabaseEntry(EfiSignatureKind.X509, EfiGuids.MicrosoftOwner, certificate.Der);
            (certificate.Database == MicrosoftCertificateDatabase.Kek ? kek : db).Add(entry);
        }

        AddNew(kek, options.Kek);
        AddNew(db, options.Db);
        if (kek.Exists(e => e.Kind != EfiSignatureKind.X509))
            throw new VariableStoreException("KEK entries must be certificates: edk2 verifies db/dbx updates only against X.509 KEK entries.");
        if (db.Count == 0)
            throw new VariableStoreException("db would be empty, so the firmware would refuse every boot image; give at least one --db entry.");
        IReadOnlyList<SignatureDatabaseEntry> dbx = options.Dbx.Count > 0 ? options.Dbx : [PlaceholderDbxEntry];

        var time = options.EnrolmentTime;
        if (!time.IsValidAuthenticationTime)
            throw new VariableStoreException("Enrolment time must be GMT with whole seconds (edk2 requires zero Pad1/Nanosecond/TimeZone/Daylight/Pad2).");

        // Order and attributes as OVMF EnrollDefaultKeys leaves them (OVMF_VARS_4M.ms.fd).
        store.Set(Variable(WellKnownVariables.CertDb, EfiVariableAttributes.SecureBootDatabase, [4, 0, 0, 0], EfiTime.Zero));
        store.Set(Variable(WellKnownVariables.Db, EfiVariableAttributes.SecureBootDatabase, SignatureDatabaseEntry.EncodeLists(db), time));
        store.Set(Variable(WellKnownVariables.Dbx, EfiVariableAttributes.SecureBootDatabase, SignatureDatabaseEntry.EncodeLists(dbx), time));
        if (kek.Count > 0)
            store.Set(Variable(WellKnownVariables.KEK, EfiVariableAttributes.SecureBootDatabase, SignatureDatabaseEntry.EncodeLists(kek), time));
        store.Set(Variable(WellKnownVariables.PK, EfiVariableAttributes.SecureBootDatabase, SignatureDatabaseEntry.EncodeLists([pk]), time));
        // VendorKeysNv = 0: the keys are not the platform vendor's defaults (AuthVariableLib would otherwise create it as 1).
        store.Set(Variable(WellKnownVariables.VendorKeysNv,
            EfiVariableAttributes.NonVolatile | EfiVariableAttributes.BootServiceAccess | EfiVariableAttributes.TimeBasedAuthenticatedWriteAccess, [0], EfiTime.Zero));
        // SecureBootEnable = 1 with PK present: AuthVariableLibInitialize then sets SecureBoot = 1 (enforcing).
        store.Set(Variable(WellKnownVariables.SecureBootEnable, EfiVariableAttributes.NonVolatile | EfiVariableAttributes.BootServiceAccess, [1], EfiTime.Zero));
        // CustomMode = 0: standard mode; edk2 resets it at every boot anyway, it must never be left at 1.
        store.Set(Variable(WellKnownVariables.CustomMode, EfiVariableAttributes.NonVolatile | EfiVariableAttributes.BootServiceAccess, [0], EfiTime.Zero));
        return store;
    }

    /// <summary>Adds the entries not already there: a certificate the template holds is not enrolled twice.</summary>
    private static void AddNew(List<SignatureDatabaseEntry> target, IReadOnlyList<SignatureDatabaseEntry> extra)
    {
        foreach (SignatureDatabaseEntry entry in extra)
        {
            if (!target.Exists(e => e.Kind == entry.Kind && e.Data.Span.SequenceEqual(entry.Data.Span)))
                target.Add(entry);
        }
    }

    private static UefiVariable Variable(VariableKey key, EfiVariableAttributes attributes, byte[] data, EfiTime time) => new()
    {
        Name = key.Name, VendorGuid = key.VendorGuid, Attributes = attributes, Data = data, TimeStamp = time,
    };
}
