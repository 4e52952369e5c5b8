using TrustedLaunch.Testing;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;

namespace TrustedLaunch.Uefi.VariableStore.Tests.Templates;

[IntegrationTest]
public sealed class SecureBootStoreFactoryTests : IDisposable
{
    private const string MsStore = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-uefivars");
    private readonly TestKey _key;

    public SecureBootStoreFactoryTests() => _key = TestKey.Create(_dir, "pk");

    public void Dispose()
    {
        _key.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void MicrosoftCertificates_Embedded_EqualsWhatDebiansMsStoreHolds()
    {
        var debian = OvmfVariableStore.LoadFile(MsStore).SecureBoot;
        Assert.Contains(debian.KEK!.Certificates, c => c.Span.SequenceEqual(MicrosoftCertificates.KekCa2011.Der.Span));
        Assert.Equal([MicrosoftCertificates.WindowsProductionPca2011.Der.ToArray(), MicrosoftCertificates.UefiCa2011.Der.ToArray()],
            debian.Db!.Certificates.Select(c => c.ToArray()));
        Assert.Equal("31590bfd89c9d74ed087dfac66334b3931254b30", Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(MicrosoftCertificates.KekCa2011.Der.Span)));
    }

    [Fact]
    public void Create_Microsoft2011_ParsesBackEnforcingWithDebiansExactDb()
    {
        var built = SecureBootStoreFactory.Create(new SecureBootStoreOptions { Template = SecureBootTemplate.Microsoft2011, PlatformKey = _key.Der });
        var store = OvmfVariableStore.Load(built.ToArray());
        var sb = store.SecureBoot;
        Assert.True(sb.SecureBootEnforced);
        Assert.Equal(PlatformMode.User, sb.PlatformMode);
        Assert.Equal((byte)1, sb.SecureBootEnable);
        Assert.Equal((byte)0, sb.CustomMode);
        Assert.Equal([_key.Der], sb.PK!.Certificates.Select(c => c.ToArray()));
        Assert.Equal([MicrosoftCertificates.KekCa2011.Der.ToArray()], sb.KEK!.Certificates.Select(c => c.ToArray()));
        // db is exactly what OVMF EnrollDefaultKeys wrote into Debian's image: same lists, owners and order.
        Assert.True(OvmfVariableStore.LoadFile(MsStore).TryGet(EfiGuids.ImageSecurityDatabase, "db", out var debianDb));
        Assert.True(store.TryGet(EfiGuids.ImageSecurityDatabase, "db", out var ourDb));
        Assert.Equal(debianDb.Data.ToArray(), ourDb.Data.ToArray());
        Assert.True(store.TryGet(EfiGuids.ImageSecurityDatabase, "dbx", out var dbx));
        Assert.True(OvmfVariableStore.LoadFile(MsStore).TryGet(EfiGuids.ImageSecurityDatabase, "dbx", out var debianDbx));
        Assert.Equal(debianDbx.Data.ToArray(), dbx.Data.ToArray());
        Assert.All(sb.All.Take(4), d => Assert.Equal(SecureBootStoreOptions.DefaultEnrolmentTime, d.TimeStamp));
        Assert.All(store.Variables, v => Assert.NotEqual(0u, (uint)(v.Attributes & EfiVariableAttributes.NonVolatile)));
        Assert.True(store.Image!.FreeSpaceErased);
        Assert.Equal(FaultTolerantWriteState.Idle, store.Image.FaultTolerantWrite!.State);
    }

    [Fact]
    public void Create_Microsoft_DebiansDbFollowedByThe2023Cas()
    {
        var store = SecureBootStoreFactory.Create(new SecureBootStoreOptions { Template = SecureBootTemplate.Microsoft, PlatformKey = _key.Der });
        Assert.True(OvmfVariableStore.LoadFile(MsStore).TryGet(EfiGuids.ImageSecurityDatabase, "db", out var debianDb));
        Assert.True(store.TryGet(EfiGuids.ImageSecurityDatabase, "db", out var ourDb));

        Assert.True(ourDb.Data.Span.StartsWith(debianDb.Data.Span));
        Assert.Equal(5, store.SecureBoot.Db!.Certificates.Count);
        Assert.Equal([MicrosoftCertificates.KekCa2011.Der.ToArray(), MicrosoftCertificates.KekCa2023.Der.ToArray()],
            store.SecureBoot.KEK!.Certificates.Select(c => c.ToArray()));
    }

    [Fact]
    public void Create_Empty_ByteIdenticalToDebianEmptyStore()
    {
        var store = SecureBootStoreFactory.Create(new SecureBootStoreOptions { Template = SecureBootTemplate.Empty });
        Assert.Equal(File.ReadAllBytes("/usr/share/OVMF/OVMF_VARS_4M.fd"), store.ToArray());
        Assert.False(OvmfVariableStore.Load(store.ToArray()).SecureBoot.SecureBootEnforced);
    }

    [Fact]
    public void Create_CustomWithHashes2M_HoldsExactlyTheGivenEntries()
    {
        string hash = new('a', 64);
        var store = SecureBootStoreFactory.Create(new SecureBootStoreOptions
        {
            Template = SecureBootTemplate.Custom,
            Layout = NvFlashLayout.Ovmf2M,
            PlatformKey = _key.Der,
            Kek = [SignatureDatabaseEntry.FromCertificate(_key.Der, SecureBootStoreOptions.TrustedLaunchOwner)],
            Db = [SignatureDatabaseEntry.FromCertificate(_key.Der, SecureBootStoreOptions.TrustedLaunchOwner), SignatureDatabaseEntry.FromHash("sha256:" + hash, EfiGuids.OvmfEnrollDefaultKeys)],
            Dbx = [SignatureDatabaseEntry.FromHash("SHA256:" + new string('b', 64), SecureBootStoreOptions.TrustedLaunchOwner)],
        });
        byte[] flash = store.ToArray();
        Assert.Equal(0x20000, flash.Length);
        var sb = OvmfVariableStore.Load(flash).SecureBoot;
        Assert.Equal(2, sb.Db!.Lists.Count);
        Assert.Equal(hash, sb.Db.Entries.Single(e => e.Kind == EfiSignatureKind.Sha256).Hash);
        Assert.Equal(new string('b', 64), sb.Dbx!.Entries.Single().Hash);
        Assert.True(sb.SecureBootEnforced);
    }

    [Theory]
    [InlineData("sha256:abcd")]
    [InlineData("md5:" + "00000000000000000000000000000000")]
    [InlineData("sha256:zz")]
    public void FromHash_Malformed_Throws(string text) =>
        Assert.Throws<VariableStoreException>(() => SignatureDatabaseEntry.FromHash(text, Guid.Empty));

    [Fact]
    public void Create_MissingPkOrKeysOnEmpty_Throws()
    {
        Assert.Throws<VariableStoreException>(() => SecureBootStoreFactory.Create(new SecureBootStoreOptions { Template = SecureBootTemplate.Microsoft }));
        Assert.Throws<VariableStoreException>(() => SecureBootStoreFactory.Create(new SecureBootStoreOptions { Template = SecureBootTemplate.Empty, PlatformKey = _key.Der }));
    }

    [Fact]
    public void Set_StoreFull_ThrowsAndPendingFtwRefusesEdits()
    {
        var store = OvmfVariableStore.CreateEmpty(NvFlashLayout.Ovmf2M);
        var big = new UefiVariable { Name = "Big", VendorGuid = Guid.NewGuid(), Attributes = (EfiVariableAttributes)3, Data = new byte[0xE000] };
        Assert.Throws<VariableStoreException>(() => store.Set(big));

        byte[] flash = File.ReadAllBytes(MsStore);
        flash[0x41000 + 32] = 0xFE;
        var pending = OvmfVariableStore.Load(flash);
        Assert.True(pending.HasPendingFaultTolerantWrite);
        Assert.Throws<VariableStoreException>(() => pending.Set(big with { Data = new byte[1] }));
        Assert.Throws<VariableStoreException>(() => pending.ToArray());
    }

    [Fact]
    public void SaveFile_ExistingWithoutOverwrite_RefusesAndKeepsTheFile()
    {
        string path = Path.Combine(_dir, "vars.fd");
        File.WriteAllText(path, "keep");
        var store = OvmfVariableStore.CreateEmpty(NvFlashLayout.Ovmf4M);
        Assert.Throws<IOException>(() => store.SaveFile(path, overwrite: false));
        Assert.Equal("keep", File.ReadAllText(path));
        store.SaveFile(path, overwrite: true);
        Assert.Equal(0x84000, new FileInfo(path).Length);
        Assert.Single(Directory.GetFiles(_dir, "*.fd*"));
    }
}
