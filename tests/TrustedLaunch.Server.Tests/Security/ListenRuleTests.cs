using TrustedLaunch.Server.Security;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Server.Tests.Security;

/// <summary>Which listen addresses the service accepts with which security: loopback without anything, anything else only with TLS and authentication.</summary>
public sealed class ListenRuleTests
{
    [Theory]
    [InlineData("http://0.0.0.0:5380")]
    [InlineData("http://192.168.1.10:5380")]
    [InlineData("http://[::]:5380")]
    public void NonLoopbackWithoutTlsAndAuthentication_RefusedWithTheReason(string listen)
    {
        string data = RepositoryPaths.NewTempDirectory("tl-listen");
        try
        {
            var e = Assert.Throws<ArgumentException>(() => AttestationServiceHost.Build(new AttestationServiceOptions { DataDirectory = data, Listen = listen }));
            Assert.StartsWith($"Refusing to listen on {listen}: a non-loopback address needs TLS", e.Message, StringComparison.Ordinal);
            Assert.Contains("TLS is missing", e.Message, StringComparison.Ordinal);
            Assert.Contains("authentication is off", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public void NonLoopbackWithTlsButNoAuthentication_Refused()
    {
        var e = Assert.Throws<ArgumentException>(() => ServiceSecurityRegistration.CheckListen("https://0.0.0.0:5380", new ServiceSecurityOptions { TlsFromPlatformCa = true }));
        Assert.Contains("authentication is off", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("TLS is missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonLoopbackWithAuthenticationButNoTls_Refused()
    {
        var e = Assert.Throws<ArgumentException>(() => ServiceSecurityRegistration.CheckListen("http://10.0.0.1:5380", new ServiceSecurityOptions { RequireAuthentication = true }));
        Assert.Contains("TLS is missing", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5380")]
    [InlineData("http://[::1]:5380")]
    [InlineData("http://localhost:5380")]
    public void LoopbackWithoutAnything_TheZeroConfigurationDefault(string listen) =>
        Assert.NotNull(ServiceSecurityRegistration.CheckListen(listen, new ServiceSecurityOptions()));

    [Fact]
    public void NonLoopbackWithTlsAndAuthentication_Accepted() =>
        Assert.NotNull(ServiceSecurityRegistration.CheckListen("https://0.0.0.0:5380", new ServiceSecurityOptions { RequireAuthentication = true, TlsFromPlatformCa = true }));

    [Theory]
    [InlineData("https://127.0.0.1:5380", false, "no certificate was given")]
    [InlineData("http://127.0.0.1:5380", true, "use https://")]
    public void SchemeAndCertificate_MustAgree(string listen, bool tls, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => ServiceSecurityRegistration.CheckListen(listen, new ServiceSecurityOptions { TlsFromPlatformCa = tls }));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
