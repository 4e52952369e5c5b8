using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace TrustedLaunch.HostAgent.Http;

/// <summary>
/// Keeps a running host's client certificate renewed (docs/security.md): checked at the agent's start and then every
/// <see cref="HostAgentOptions.CertificateRenewalInterval"/>; once <see cref="HostEnrollment.DueForRenewal"/>, it is
/// renewed with itself and the agent's calls move to the new one without a restart. A host that runs for years never
/// stands with an expired certificate, and one the service could not renew today is tried again at the next check.
/// </summary>
public sealed class HostCertificateRenewal(HostAgentOptions options, ControlPlaneClient client, ILogger logger)
{
    private HostCredential? _credential = options.Credential;

    /// <summary>The credential the agent's calls present now.</summary>
    public HostCredential? Current => _credential;

    /// <summary>Renews the certificate when it is due at <paramref name="now"/>; true when it did.</summary>
    /// <exception cref="ControlPlaneCallException">The service refused the renewal or did not answer.</exception>
    public async Task<bool> RenewIfDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_credential?.ClientCertificate is not X509Certificate2 current || !HostEnrollment.DueForRenewal(current, now))
            return false;
        X509Certificate2 renewed = await HostEnrollment.RenewAsync(options.Server, options.HostName, _credential, options.HostDirectory, cancellationToken)
            .ConfigureAwait(false);
        _credential = _credential with { ClientCertificate = renewed };
        client.UseCredential(_credential);
        Log.CertificateRenewed(logger, current.SerialNumber, current.NotAfter, renewed.SerialNumber, renewed.NotAfter);
        return true;
    }

    /// <summary>Checks now and then every interval until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_credential?.ClientCertificate is null)
            return; // a bearer-secret (local) host or one without authentication has nothing to renew
        using var timer = new PeriodicTimer(options.CertificateRenewalInterval, options.Time);
        do
        {
            try
            {
                await RenewIfDueAsync(options.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            }
            catch (ControlPlaneCallException e)
            {
                Log.CertificateNotRenewed(logger, _credential.ClientCertificate!.NotAfter, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }
}
