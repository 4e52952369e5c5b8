using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Server;

/// <summary>
/// Loads the certificates an AK certificate must chain to: the platform's vTPM AK CA and root CA from a
/// <c>tl ca init</c> folder (only the public <c>.crt</c> files are read; the service never needs CA keys), or the PEM
/// stored with a VM's registration.
/// </summary>
public static class TrustAnchors
{
    /// <summary>The AK CA and root of a platform CA folder as one PEM text.</summary>
    /// <exception cref="TrustAnchorException">A file is missing or is not a PEM certificate.</exception>
    public static string ReadCaDirectoryPem(string directory)
    {
        var pem = new System.Text.StringBuilder();
        foreach (string name in PlatformCaLayout.VerifierAuthorities)
        {
            string path = PlatformCaLayout.CertificatePath(directory, name);
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new TrustAnchorException($"CA certificate {path} cannot be read: {e.Message} (create the PKI with 'tl ca init')", e);
            }

            pem.Append(text.TrimEnd()).Append('\n');
        }

        _ = Parse(pem.ToString());
        return pem.ToString();
    }

    /// <summary>Parses PEM text holding one or more certificates.</summary>
    /// <exception cref="TrustAnchorException">No certificate, or a malformed one.</exception>
    public static X509Certificate2Collection Parse(string pem)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new TrustAnchorException($"CA certificates are not valid PEM: {e.Message}", e);
        }

        if (certificates.Count == 0)
            throw new TrustAnchorException("CA PEM holds no certificate.");
        return certificates;
    }
}

/// <summary>The AK CA to trust for a VM cannot be found or read.</summary>
public sealed class TrustAnchorException : Exception
{
    public TrustAnchorException() { }

    public TrustAnchorException(string message) : base(message) { }

    public TrustAnchorException(string message, Exception innerException) : base(message, innerException) { }
}
