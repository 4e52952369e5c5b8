using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.HostAgent.Http;

/// <summary>
/// How a host proves itself to <c>tl server</c> and recognises it: a client certificate from enrollment (mTLS), or the
/// in-process local host's bearer secret; the server's TLS certificate is accepted when the system trusts it or it
/// chains to <see cref="TrustedRoot"/> (the platform CA's root).
/// </summary>
public sealed record HostCredential
{
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>Sent as <c>Authorization: Bearer …</c>; never logged.</summary>
    public string? BearerToken { get; init; }

    public X509Certificate2? TrustedRoot { get; init; }

    /// <summary>The one server certificate accepted besides those the system or <see cref="TrustedRoot"/> vouch for (the local host of <c>tl server</c> pins its own).</summary>
    public X509Certificate2? PinnedServerCertificate { get; init; }

    /// <summary>The handler every call to the control plane goes through.</summary>
    public SocketsHttpHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90) };
        if (ClientCertificate is not null)
            handler.SslOptions.ClientCertificates = [ClientCertificate];
        if (TrustedRoot is not null || PinnedServerCertificate is not null)
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(certificate, errors);
        return handler;
    }

    private bool Trusted(X509Certificate? presented, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
            return true;
        if (presented is not null && PinnedServerCertificate is X509Certificate2 pinned && presented.GetRawCertData().AsSpan().SequenceEqual(pinned.RawData))
            return true;
        if (presented is null || TrustedRoot is not X509Certificate2 root || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var certificate = new X509Certificate2(presented);
        return chain.Build(certificate);
    }
}
