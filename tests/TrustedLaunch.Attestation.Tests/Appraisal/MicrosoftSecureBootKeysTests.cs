using System.Security.Cryptography;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Attestation.Tests.Appraisal;

/// <summary>
/// The default-keys appraisal (<c>x-ms-azurevm-default-securebootkeysvalidated</c>) against what the three Microsoft
/// templates enrol, and against stores that are not Microsoft's defaults.
/// </summary>
public sealed class MicrosoftSecureBootKeysTests
{
    private static readonly KeyEntry PlatformKey = new("TrustedLaunch per-VM PK", new string('a', 64));
    private static readonly KeyEntry Vendor = new("Debian Secure Boot CA", new string('b', 64));

    [Fact]
    public void Pinned_EqualTheCertificatesTheTemplatesEnrol()
    {
        string[] pinned =
        [
            MicrosoftSecureBootKeys.KekCa2011, MicrosoftSecureBootKeys.KekCa2023, MicrosoftSecureBootKeys.WindowsProductionPca2011,
            MicrosoftSecureBootKeys.UefiCa2011, MicrosoftSecureBootKeys.WindowsUefiCa2023, MicrosoftSecureBootKeys.UefiCa2023,
            MicrosoftSecureBootKeys.OptionRomUefiCa2023,
        ];
        Assert.Equal(MicrosoftCertificates.All.Select(c => Convert.ToHexStringLower(SHA256.HashData(c.Der.Span))), pinned);
        Assert.Equal(MicrosoftCertificates.All.Where(c => c.Database == MicrosoftCertificateDatabase.Kek).Select(c => c.Sha256).Order(),
            MicrosoftSecureBootKeys.Kek.Order());
        Assert.Equal(MicrosoftCertificates.All.Where(c => c.Database == MicrosoftCertificateDatabase.Db).Select(c => c.Sha256).Order(),
            MicrosoftSecureBootKeys.Db.Order());
    }

    [Theory]
    [InlineData(SecureBootTemplate.Microsoft)]
    [InlineData(SecureBootTemplate.Microsoft2023)]
    [InlineData(SecureBootTemplate.Microsoft2011)]
    public void AreDefault_EveryMicrosoftTemplate_True(SecureBootTemplate template)
    {
        SecureBootKeys keys = KeysOf(template);

        Assert.True(MicrosoftSecureBootKeys.AreDefault(keys));
        // A platform that enrols its own PK in KEK (to sign db updates) keeps the default keys.
        Assert.True(MicrosoftSecureBootKeys.AreDefault(keys with { Kek = [.. keys.Kek, PlatformKey] }));
    }

    [Fact]
    public void AreDefault_PartialRollovers_True()
    {
        // A 2011 store to which only Microsoft UEFI CA 2023 was added, and a 2023 KEK with the 2011 db: still Microsoft's keys.
        SecureBootKeys keys2011 = KeysOf(SecureBootTemplate.Microsoft2011);
        Assert.True(MicrosoftSecureBootKeys.AreDefault(keys2011 with { Db = [.. keys2011.Db, Entry(MicrosoftCertificates.UefiCa2023)] }));
        Assert.True(MicrosoftSecureBootKeys.AreDefault(keys2011 with { Kek = [Entry(MicrosoftCertificates.KekCa2023)] }));
    }

    [Fact]
    public void AreDefault_AnythingElseInKekOrDb_False()
    {
        SecureBootKeys keys = KeysOf(SecureBootTemplate.Microsoft);

        Assert.False(MicrosoftSecureBootKeys.AreDefault(keys with { Kek = [.. keys.Kek, Vendor] }));
        Assert.False(MicrosoftSecureBootKeys.AreDefault(keys with { Db = [.. keys.Db, Vendor] }));
        Assert.False(MicrosoftSecureBootKeys.AreDefault(keys with { Db = [.. keys.Db, new KeyEntry("Sha256", new string('c', 64))] }));
        // Only the PK in KEK, or a Microsoft db CA in KEK: no Microsoft KEK.
        Assert.False(MicrosoftSecureBootKeys.AreDefault(keys with { Kek = [PlatformKey] }));
        Assert.False(MicrosoftSecureBootKeys.AreDefault(keys with { Kek = [Entry(MicrosoftCertificates.UefiCa2023)] }));
        // A Microsoft KEK in db is not a db CA.
        Assert.False(MicrosoftSecureBootKeys.AreDefault(keys with { Db = [Entry(MicrosoftCertificates.KekCa2023)] }));
        Assert.False(MicrosoftSecureBootKeys.AreDefault(keys with { Db = [] }));
        Assert.False(MicrosoftSecureBootKeys.AreDefault(keys with { Kek = [] }));
    }

    private static SecureBootKeys KeysOf(SecureBootTemplate template)
    {
        IReadOnlyList<MicrosoftCertificate> certificates = SecureBootTemplates.MicrosoftKeys(template);
        return new SecureBootKeys
        {
            Pk = [PlatformKey],
            Kek = [.. certificates.Where(c => c.Database == MicrosoftCertificateDatabase.Kek).Select(Entry)],
            Db = [.. certificates.Where(c => c.Database == MicrosoftCertificateDatabase.Db).Select(Entry)],
        };
    }

    private static KeyEntry Entry(MicrosoftCertificate certificate) => new(certificate.CommonName, certificate.Sha256);
}
