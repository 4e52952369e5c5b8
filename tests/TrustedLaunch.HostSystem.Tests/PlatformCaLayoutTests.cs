namespace TrustedLaunch.HostSystem.Tests;

public sealed class PlatformCaLayoutTests
{
    [Fact]
    public void Paths_AreNameDotCrtAndNameDotKey()
    {
        Assert.Equal("/pki/root-ca.crt", PlatformCaLayout.CertificatePath("/pki", PlatformCaLayout.RootName));
        Assert.Equal("/pki/vtpm-ek-ca.key", PlatformCaLayout.KeyPath("/pki", PlatformCaLayout.EndorsementKeyCaName));
    }

    [Fact]
    public void VerifierAuthorities_AkCaThenRoot_NoEkCa()
    {
        Assert.Equal(["vtpm-ak-ca", "root-ca"], PlatformCaLayout.VerifierAuthorities);
        Assert.Equal(["root-ca", "vtpm-ek-ca", "vtpm-ak-ca"], PlatformCaLayout.Authorities);
    }
}
