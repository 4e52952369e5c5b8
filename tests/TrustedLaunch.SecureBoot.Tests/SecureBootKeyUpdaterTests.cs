using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.SecureBoot.Rollover;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Qemu;
using TrustedLaunch.Testing.SecureBootObjects;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.SecureBoot.Tests;

/// <summary>
/// The rollover of one store: KEK/db to a Microsoft template, Microsoft's real DBXUpdate.bin through the authenticated
/// path, and the pre-flight over Debian 12's dual-signed shim.
/// </summary>
[IntegrationTest]
public sealed class SecureBootKeyUpdaterTests
{
    private static readonly VariableKey GuestVariable = new(new Guid("8be4df61-93ca-11d2-aa0d-00e098032b8c"), "Boot0001");

    [Fact]
    public void Apply_2011StoreToMicrosoft_AddsThe2023CasAndKeepsEveryOtherVariable()
    {
        OvmfVariableStore store = Store(SecureBootTemplate.Microsoft2011);
        byte[] before = store.ToArray();

        KeyUpdateOutcome outcome = SecureBootKeyUpdater.Apply(store, new KeyUpdateRequest { Template = SecureBootTemplate.Microsoft }, Shim());

        Assert.Equal(KeyUpdateStatus.Applied, outcome.Status);
        Assert.Equal(["KEK added CN=Microsoft Corporation KEK 2K CA 2023", "db added CN=Windows UEFI CA 2023", "db added CN=Microsoft UEFI CA 2023", "db added CN=Microsoft Option ROM UEFI CA 2023"],
            outcome.Changes.Select(c => $"{c.Database} {c.Action} {c.Entry.Split(" (")[0]}"));
        Assert.Equal(before, store.ToArray()); // the caller's store is untouched
        var updated = OvmfVariableStore.Load(outcome.UpdatedStore);
        Assert.True(MicrosoftStoreEquals(updated, SecureBootTemplate.Microsoft));
        // Everything else byte for byte: the guest's boot entry, PK, dbx, the state variables.
        foreach (UefiVariable variable in store.Variables.Where(v => v.Name is not ("KEK" or "db")))
        {
            Assert.True(updated.TryGet(variable.VendorGuid, variable.Name, out var kept), variable.Name);
            Assert.Equal(variable, kept, VariableComparer.Instance);
        }

        Assert.Equal(store.Variables.Count, updated.Variables.Count);
        Assert.Single(outcome.Preflight);
        Assert.True(outcome.Preflight[0].After.Allowed);
    }

    [Fact]
    public void Apply_MicrosoftAgain_Unchanged()
    {
        var outcome = SecureBootKeyUpdater.Apply(Store(SecureBootTemplate.Microsoft), new KeyUpdateRequest { Template = SecureBootTemplate.Microsoft }, Shim());

        Assert.Equal(KeyUpdateStatus.Unchanged, outcome.Status);
        Assert.Null(outcome.UpdatedStore);
    }

    [Fact]
    public void Apply_CombinedTo2023_Drops2011CasOnlyAndTheDualSignedShimStillBoots()
    {
        var outcome = SecureBootKeyUpdater.Apply(Store(SecureBootTemplate.Microsoft), new KeyUpdateRequest { Template = SecureBootTemplate.Microsoft2023 }, Shim());

        Assert.Equal(KeyUpdateStatus.Applied, outcome.Status);
        Assert.All(outcome.Changes, c => Assert.Equal("removed", c.Action));
        Assert.Equal(3, outcome.Changes.Count);
        Assert.True(MicrosoftStoreEquals(OvmfVariableStore.Load(outcome.UpdatedStore), SecureBootTemplate.Microsoft2023));
        Assert.Contains("Microsoft UEFI CA 2023", outcome.Preflight[0].After.MatchedEntry!.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_RealDbxUpdateOn2011Store_AppliedThroughTheKekAndAppended()
    {
        OvmfVariableStore store = Store(SecureBootTemplate.Microsoft2011);

        var outcome = SecureBootKeyUpdater.Apply(store, DbxUpdate(SecureBootTemplate.Microsoft), Shim());

        Assert.Equal(KeyUpdateStatus.Applied, outcome.Status);
        Assert.Equal("CN=Microsoft Windows UEFI Key Exchange Key, O=Microsoft Corporation, L=Redmond, S=Washington, C=US", outcome.DbxUpdateSigner);
        int dbxAdded = outcome.Changes.Count(c => c.Database == "dbx");
        var updated = OvmfVariableStore.Load(outcome.UpdatedStore);
        // The placeholder stays first, Microsoft's hashes follow it (APPEND_WRITE).
        Assert.Equal(1 + dbxAdded, updated.SecureBoot.Dbx!.HashCount + updated.SecureBoot.Dbx.Certificates.Count);
        Assert.True(dbxAdded > 400, $"{dbxAdded} dbx entries");
        Assert.True(outcome.Preflight[0].After.Allowed, outcome.Preflight[0].After.Message);
    }

    [Fact]
    public void Apply_RealDbxUpdateOn2023OnlyKek_RefusedNamingTheSigner()
    {
        var outcome = SecureBootKeyUpdater.Apply(Store(SecureBootTemplate.Microsoft2023), DbxUpdate(template: null), Shim());

        Assert.Equal(KeyUpdateStatus.RefusedByKek, outcome.Status);
        Assert.Null(outcome.UpdatedStore);
        Assert.Contains("DBXUpdate.bin is refused: the VM's KEK cannot verify it", outcome.Message, StringComparison.Ordinal);
        Assert.Contains("Microsoft Windows UEFI Key Exchange Key", outcome.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_DbxRevokingUefiCa2011_RefusedByPreflightThoughThe2023SignatureIsTrusted()
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=TL Platform KEK", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 platformKek = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        OvmfVariableStore store = Store(SecureBootTemplate.Microsoft, SignatureDatabaseEntry.FromCertificate(platformKek.RawData, SecureBootStoreOptions.TrustedLaunchOwner));
        byte[] revoke = SignatureDatabaseEntry.EncodeLists([new SignatureDatabaseEntry(EfiSignatureKind.X509, EfiGuids.MicrosoftOwner, MicrosoftCertificates.UefiCa2011.Der)]);
        byte[] update = AuthenticatedVariableSigner.Sign(WellKnownVariables.Dbx, EfiVariableAttributes.SecureBootDatabase | EfiVariableAttributes.AppendWrite,
            new EfiTime(2026, 12, 1, 0, 0, 0), revoke, platformKek).Encode();

        var outcome = SecureBootKeyUpdater.Apply(store, new KeyUpdateRequest { DbxUpdate = update, DbxUpdateName = "revoke-2011.auth" }, Shim());

        Assert.Equal(KeyUpdateStatus.RefusedByPreflight, outcome.Status);
        Assert.Null(outcome.UpdatedStore);
        Assert.StartsWith("/EFI/BOOT/BOOTX64.EFI would no longer boot: Denied:", outcome.Message, StringComparison.Ordinal);
        Assert.Contains("Microsoft Corporation UEFI CA 2011", outcome.Message, StringComparison.Ordinal);
        Assert.Equal(VerdictReason.CertificateInDbx, outcome.Preflight[0].After.Reason);
        KeyChange change = Assert.Single(outcome.Changes);
        Assert.Equal(("dbx", "added"), (change.Database, change.Action));
        Assert.StartsWith("CN=Microsoft Corporation UEFI CA 2011", change.Entry, StringComparison.Ordinal);
    }

    [Fact]
    public void DbxUpdateFile_RealDbxUpdate_443Sha256EntriesAtMicrosoftsFixedTime()
    {
        DbxUpdateFile file = DbxUpdateFile.Read(File.ReadAllBytes(MicrosoftDbxUpdate.Path));

        Assert.Equal((443, 443, 0), (file.EntryCount, file.HashCount, file.CertificateCount));
        Assert.Equal(new EfiTime(2010, 3, 6, 19, 17, 21), file.TimeStamp);
        Assert.Throws<UefiFormatException>(() => DbxUpdateFile.Read(new byte[12]));
    }

    [Fact]
    public void Apply_EmptyStore_NotApplicable()
    {
        var outcome = SecureBootKeyUpdater.Apply(OvmfVariableStore.CreateEmpty(NvFlashLayout.Ovmf4M), new KeyUpdateRequest { Template = SecureBootTemplate.Microsoft }, []);

        Assert.Equal(KeyUpdateStatus.NotApplicable, outcome.Status);
    }

    private static KeyUpdateRequest DbxUpdate(SecureBootTemplate? template) =>
        new() { Template = template, DbxUpdate = File.ReadAllBytes(MicrosoftDbxUpdate.Path), DbxUpdateName = "DBXUpdate.bin" };

    private static IReadOnlyList<BootBinary> Shim() => [new BootBinary("/EFI/BOOT/BOOTX64.EFI", File.ReadAllBytes(DebianBootChain.Shim))];

    private static OvmfVariableStore Store(SecureBootTemplate template, SignatureDatabaseEntry? extraKek = null)
    {
        using var pk = PlatformKeyGenerator.Generate("TL test PK");
        OvmfVariableStore store = SecureBootStoreFactory.Create(new SecureBootStoreOptions
        {
            Template = template, PlatformKey = pk.RawData, Kek = extraKek is null ? [] : [extraKek],
        });
        // A variable the guest wrote: it must survive the rollover.
        store.Set(new UefiVariable
        {
            Name = GuestVariable.Name, VendorGuid = GuestVariable.VendorGuid,
            Attributes = EfiVariableAttributes.NonVolatile | EfiVariableAttributes.BootServiceAccess | EfiVariableAttributes.RuntimeAccess,
            Data = new byte[] { 1, 0, 0, 0, 0x2e, 0 },
        });
        return store;
    }

    private static bool MicrosoftStoreEquals(OvmfVariableStore store, SecureBootTemplate template)
    {
        var expected = SecureBootTemplates.MicrosoftKeys(template).Select(c => c.Sha256).Order();
        var actual = store.SecureBoot.KEK!.Certificates.Concat(store.SecureBoot.Db!.Certificates)
            .Select(der => Convert.ToHexStringLower(SHA256.HashData(der.Span))).Order();
        return expected.SequenceEqual(actual);
    }

    private sealed class VariableComparer : IEqualityComparer<UefiVariable>
    {
        public static VariableComparer Instance { get; } = new();

        public bool Equals(UefiVariable? x, UefiVariable? y) => x is not null && y is not null && x.Name == y.Name && x.VendorGuid == y.VendorGuid
            && x.Attributes == y.Attributes && x.TimeStamp == y.TimeStamp && x.Data.Span.SequenceEqual(y.Data.Span);

        public int GetHashCode(UefiVariable obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
