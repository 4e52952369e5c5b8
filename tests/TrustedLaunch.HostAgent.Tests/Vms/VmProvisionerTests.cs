using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.HostAgent.GuestState;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.HostAgent.Tests.Vms;

/// <summary>The guest state a VM's extension object asks for: template, keys, a vTPM for Trusted Launch only.</summary>
public sealed class VmProvisionerTests
{
    private static string Certificate()
    {
        using var key = RSA.Create(2048);
        using X509Certificate2 cert = new CertificateRequest("CN=test db", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddYears(50));
        return Convert.ToBase64String(cert.RawData);
    }

    [Fact]
    public void Request_Standard_EmptyStoreWithoutVTpm()
    {
        GuestStateRequest request = VmProvisioner.Request(Guid.NewGuid(), new TrustedLaunchExtensions { NestedVirtualizationEnabled = false }, trustedLaunch: false);

        Assert.Equal(SecureBootTemplate.Empty, request.Template);
        Assert.False(request.WithVTpm);
        Assert.Null(request.PlatformKey);
    }

    [Fact]
    public void Request_TrustedLaunchDefaults_MicrosoftTemplateVTpmNoPlatformKey()
    {
        GuestStateRequest request = VmProvisioner.Request(Guid.NewGuid(), new TrustedLaunchExtensions { SecureBootTemplate = "microsoft" }, trustedLaunch: true);

        Assert.Equal(SecureBootTemplate.Microsoft, request.Template);
        Assert.True(request.WithVTpm);
        Assert.Null(request.PlatformKey); // null, not an empty key: the provisioner then makes a per-VM PK
        Assert.Empty(request.Db);
    }

    [Fact]
    public void Request_CustomKeys_EveryEntryEnrolled()
    {
        string cert = Certificate();
        var extensions = new TrustedLaunchExtensions
        {
            SecureBootTemplate = "custom",
            SecureBootKeys = new SecureBootKeys { PlatformKey = cert, Kek = [cert], Db = [cert], Dbx = ["sha256:" + new string('a', 64), cert] },
        };

        GuestStateRequest request = VmProvisioner.Request(Guid.NewGuid(), extensions, trustedLaunch: true);

        Assert.Equal(SecureBootTemplate.Custom, request.Template);
        Assert.Equal(Convert.FromBase64String(cert), request.PlatformKey!.Value.ToArray());
        Assert.Single(request.Kek);
        Assert.Single(request.Db);
        Assert.Equal(2, request.Dbx.Count);
    }
}
