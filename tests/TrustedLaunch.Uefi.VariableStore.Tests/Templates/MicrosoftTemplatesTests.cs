using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;

namespace TrustedLaunch.Uefi.VariableStore.Tests.Templates;

/// <summary>What each Microsoft template enrols, by name and by bytes, and how the names parse.</summary>
public sealed class MicrosoftTemplatesTests : IDisposable
{
    private readonly X509Certificate2 _pk = PlatformKeyGenerator.Generate("TL template test PK");

    public void Dispose() => _pk.Dispose();

    public static TheoryData<SecureBootTemplate, string[], string[]> Contents => new()
    {
        {
            SecureBootTemplate.Microsoft,
            ["Microsoft Corporation KEK CA 2011", "Microsoft Corporation KEK 2K CA 2023"],
            ["Microsoft Windows Production PCA 2011", "Microsoft Corporation UEFI CA 2011", "Windows UEFI CA 2023", "Microsoft UEFI CA 2023", "Microsoft Option ROM UEFI CA 2023"]
        },
        {
            SecureBootTemplate.Microsoft2023,
            ["Microsoft Corporation KEK 2K CA 2023"],
            ["Windows UEFI CA 2023", "Microsoft UEFI CA 2023", "Microsoft Option ROM UEFI CA 2023"]
        },
        {
            SecureBootTemplate.Microsoft2011,
            ["Microsoft Corporation KEK CA 2011"],
            ["Microsoft Windows Production PCA 2011", "Microsoft Corporation UEFI CA 2011"]
        },
    };

    [Theory]
    [MemberData(nameof(Contents))]
    public void Create_MicrosoftTemplate_EnrolsExactlyItsCasWithMicrosoftsOwnerAndEnforces(SecureBootTemplate template, string[] kek, string[] db)
    {
        OvmfVariableStore store = OvmfVariableStore.Load(Create(template).ToArray());
        SecureBootDatabases sb = store.SecureBoot;

        Assert.True(sb.SecureBootEnforced);
        Assert.Equal([_pk.RawData], sb.PK!.Certificates.Select(c => c.ToArray()));
        Assert.Equal(kek, sb.KEK!.Certificates.Select(CommonName));
        Assert.Equal(db, sb.Db!.Certificates.Select(CommonName));
        Assert.All(sb.KEK.Lists.Concat(sb.Db.Lists).SelectMany(l => l.Signatures), s => Assert.Equal(EfiGuids.MicrosoftOwner, s.Owner));
        Assert.Equal([SecureBootStoreFactory.PlaceholderDbxEntry.Data.ToArray()], sb.Dbx!.Entries.Select(e => Convert.FromHexString(e.Hash!)));
    }

    [Fact]
    public void Create_Microsoft_DbIsThe2011DbWithThe2023CasAppended()
    {
        byte[] db2011 = Db(Create(SecureBootTemplate.Microsoft2011));
        byte[] db2023 = Db(Create(SecureBootTemplate.Microsoft2023));

        Assert.Equal([.. db2011, .. db2023], Db(Create(SecureBootTemplate.Microsoft)));
    }

    [Fact]
    public void Create_ExtraEntryTheTemplateHolds_EnrolledOnce()
    {
        var uefi2023 = SignatureDatabaseEntry.FromCertificate(MicrosoftCertificates.UefiCa2023.Der.Span, EfiGuids.MicrosoftOwner);
        var kek2023 = SignatureDatabaseEntry.FromCertificate(MicrosoftCertificates.KekCa2023.Der.Span, EfiGuids.MicrosoftOwner);

        SecureBootDatabases sb = SecureBootStoreFactory.Create(new SecureBootStoreOptions
        {
            Template = SecureBootTemplate.Microsoft, PlatformKey = _pk.RawData, Kek = [kek2023], Db = [uefi2023],
        }).SecureBoot;
        Assert.Equal(2, sb.KEK!.Certificates.Count);
        Assert.Equal(5, sb.Db!.Certificates.Count);

        // Added to the 2011 set, the same certificate is new: a partial rollover by hand.
        SecureBootDatabases partial = SecureBootStoreFactory.Create(new SecureBootStoreOptions
        {
            Template = SecureBootTemplate.Microsoft2011, PlatformKey = _pk.RawData, Db = [uefi2023],
        }).SecureBoot;
        Assert.Equal(["Microsoft Windows Production PCA 2011", "Microsoft Corporation UEFI CA 2011", "Microsoft UEFI CA 2023"], partial.Db!.Certificates.Select(CommonName));
    }

    [Theory]
    [InlineData(SecureBootTemplate.Microsoft2023)]
    [InlineData(SecureBootTemplate.Microsoft2011)]
    public void Create_WithoutPk_RefusedNamingTheTemplate(SecureBootTemplate template)
    {
        var refused = Assert.Throws<VariableStoreException>(() => SecureBootStoreFactory.Create(new SecureBootStoreOptions { Template = template }));
        Assert.Contains(SecureBootTemplates.NameOf(template), refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_RoundTripCaseInsensitivelyAndNothingElseParses()
    {
        Assert.Equal(["microsoft", "microsoft-2023", "microsoft-2011", "custom", "empty"], SecureBootTemplates.Names);
        foreach (SecureBootTemplate template in Enum.GetValues<SecureBootTemplate>())
        {
            Assert.True(SecureBootTemplates.TryParse(SecureBootTemplates.NameOf(template).ToUpperInvariant(), out SecureBootTemplate parsed));
            Assert.Equal(template, parsed);
        }

        Assert.False(SecureBootTemplates.TryParse("microsoft2023", out _));
        Assert.False(SecureBootTemplates.TryParse(null, out _));
        Assert.Empty(SecureBootTemplates.MicrosoftKeys(SecureBootTemplate.Custom));
    }

    private OvmfVariableStore Create(SecureBootTemplate template) =>
        SecureBootStoreFactory.Create(new SecureBootStoreOptions { Template = template, PlatformKey = _pk.RawData });

    private static byte[] Db(OvmfVariableStore store)
    {
        Assert.True(store.TryGet(EfiGuids.ImageSecurityDatabase, "db", out UefiVariable? db));
        return db!.Data.ToArray();
    }

    private static string CommonName(ReadOnlyMemory<byte> der)
    {
        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificate(der.Span);
        return certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
    }
}
