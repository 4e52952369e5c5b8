using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.HostAgent.Http;

/// <summary>
/// A host's enrollment with <c>tl server</c> (docs/security.md): a new ECDSA P-256 key made here and kept here
/// (<c>host/tls-client.key</c>, mode 0600), its CSR sent with the single-use join token, and the client certificate
/// the platform CA issues for it stored beside (<c>host/tls-client.crt</c>). Later runs load the pair, and renew it
/// (<see cref="RenewAsync"/>, over mTLS with the pair itself) once it is <see cref="DueForRenewal"/>.
/// </summary>
public static class HostEnrollment
{
    public const string CertificateFileName = "tls-client.crt";
    public const string KeyFileName = "tls-client.key";

    /// <summary>The client certificate and key enrolled earlier in <paramref name="hostDirectory"/>; null when none.</summary>
    public static X509Certificate2? Load(string hostDirectory)
    {
        string certificate = Path.Combine(hostDirectory, CertificateFileName), key = Path.Combine(hostDirectory, KeyFileName);
        if (!File.Exists(certificate) || !File.Exists(key))
            return null;
        using X509Certificate2 pem = X509Certificate2.CreateFromPemFile(certificate, key);
        // SslStream on Linux wants a certificate whose key is not ephemeral: load it through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Enrolls <paramref name="hostName"/> with <paramref name="joinToken"/> and stores the certificate; returns it with its key.</summary>
    /// <exception cref="ControlPlaneCallException">The server refused the token or the request, or did not answer.</exception>
    public static Task<X509Certificate2> EnrollAsync(Uri server, string hostName, string joinToken, string hostDirectory, X509Certificate2? trustedRoot,
        CancellationToken cancellationToken) =>
        RequestAsync(new HostCredential { TrustedRoot = trustedRoot }, server, $"v1/hosts/{Uri.EscapeDataString(hostName)}/enroll", hostName,
            csr => JsonSerializer.Serialize(new EnrollRequest(joinToken, csr), EnrollmentJson.Default.EnrollRequest), "enrollment", hostDirectory, cancellationToken);

    /// <summary>
    /// Whether <paramref name="certificate"/> is due for renewal at <paramref name="now"/>: less than a third of its
    /// lifetime left (four months of the default year), so a host that starts now and then renews in time.
    /// </summary>
    public static bool DueForRenewal(X509Certificate2 certificate, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        TimeSpan lifetime = certificate.NotAfter - certificate.NotBefore;
        return certificate.NotAfter.ToUniversalTime() - now.UtcDateTime < lifetime / 3;
    }

    /// <summary>
    /// Renews the host's client certificate, proving itself with <paramref name="current"/> (mTLS): a new key made here,
    /// the certificate issued for it stored in place of the old pair (which stays valid until it expires).
    /// </summary>
    /// <exception cref="ControlPlaneCallException">The server refused the renewal, or did not answer.</exception>
    public static Task<X509Certificate2> RenewAsync(Uri server, string hostName, HostCredential current, string hostDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        return RequestAsync(current, server, $"v1/hosts/{Uri.EscapeDataString(hostName)}/certificate", hostName,
            csr => JsonSerializer.Serialize(new RenewRequest(csr), EnrollmentJson.Default.RenewRequest), "certificate renewal", hostDirectory, cancellationToken);
    }

    private static async Task<X509Certificate2> RequestAsync(HostCredential credential, Uri server, string path, string hostName, Func<string, string> body,
        string what, string hostDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostName}", key, HashAlgorithmName.SHA256);
        string csr = request.CreateSigningRequestPem();
        using var http = new HttpClient(credential.CreateHandler()) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
        HttpResponseMessage response;
        try
        {
            using var content = new StringContent(body(csr), Encoding.UTF8, "application/json");
            response = await http.PostAsync(new Uri(path, UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ControlPlaneCallException(null, null, $"{what}: {e.Message}", e);
        }

        using (response)
        {
            string answer = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
                throw new ControlPlaneCallException(response.StatusCode, null, $"{what} refused: {(int)response.StatusCode} {answer}");
            EnrollResponse? issued = JsonSerializer.Deserialize(answer, EnrollmentJson.Default.EnrollResponse);
            if (issued?.Certificate is null)
                throw new ControlPlaneCallException(response.StatusCode, null, $"{what}: the answer has no certificate.");
            Directory.CreateDirectory(hostDirectory);
            DurableFile.Write(Path.Combine(hostDirectory, KeyFileName), Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()), overwrite: true, ownerOnly: true);
            DurableFile.Write(Path.Combine(hostDirectory, CertificateFileName), Encoding.ASCII.GetBytes(issued.Certificate), overwrite: true);
        }

        return Load(hostDirectory)!;
    }

    internal sealed record EnrollRequest(string JoinToken, string Csr);

    internal sealed record RenewRequest(string Csr);

    internal sealed record EnrollResponse(string? HostName, string? Certificate, string? CaCertificate);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(HostEnrollment.EnrollRequest))]
[JsonSerializable(typeof(HostEnrollment.RenewRequest))]
[JsonSerializable(typeof(HostEnrollment.EnrollResponse))]
internal sealed partial class EnrollmentJson : JsonSerializerContext;
