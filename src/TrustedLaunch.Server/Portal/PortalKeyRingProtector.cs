using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Server.Portal;

/// <summary>
/// Encrypts the portal's data-protection key ring at rest (docs/security.md): a self-signed RSA-3072 certificate made
/// once, kept with its private key in <c>&lt;data&gt;/portal-keys-protector.pfx</c> (mode 0600, refused when others can
/// read it, like the token-signing key), whose public key wraps every key the ring writes (XML encryption). A copy of
/// <c>portal-keys/</c> alone — a backup, a shared volume — then reveals nothing that could forge a sign-in cookie.
/// </summary>
internal static class PortalKeyRingProtector
{
    public const string FileName = "portal-keys-protector.pfx";

    /// <exception cref="TokenKeyException">The file cannot be read or written, or is not owner-only.</exception>
    public static X509Certificate2 OpenOrCreate(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        try
        {
            if (File.Exists(path))
            {
                if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
                    throw new TokenKeyException($"The portal key-ring protector {path} is accessible to other users; chmod 600 it (or delete it and portal-keys/ to make new ones).");
                return X509CertificateLoader.LoadPkcs12FromFile(path, null, X509KeyStorageFlags.EphemeralKeySet);
            }

            using RSA rsa = RSA.Create(3072);
            var request = new CertificateRequest("CN=TrustedLaunch portal key-ring protector", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment, critical: true));
            DateTimeOffset now = DateTimeOffset.UtcNow;
            using X509Certificate2 created = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(100));
            byte[] pfx = created.Export(X509ContentType.Pkcs12);
            DurableFile.Write(path, pfx, overwrite: false, ownerOnly: true);
            return X509CertificateLoader.LoadPkcs12(pfx, null, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new TokenKeyException($"The portal key-ring protector {path} cannot be used: {e.Message}", e);
        }
    }

    /// <summary>
    /// Drops keys a release before this one wrote in the clear: they protected only antiforgery tokens (a page reload
    /// makes new ones), and an unencrypted master key must not stay on disk.
    /// </summary>
    /// <exception cref="TokenKeyException">A key file cannot be read or deleted.</exception>
    public static void DiscardUnprotectedKeys(string keyDirectory)
    {
        if (!Directory.Exists(keyDirectory))
            return;
        try
        {
            foreach (string file in Directory.EnumerateFiles(keyDirectory, "key-*.xml"))
            {
                if (!File.ReadAllText(file).Contains("<encryptedSecret", StringComparison.Ordinal))
                    File.Delete(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenKeyException($"The portal key ring {keyDirectory} cannot be cleaned of unencrypted keys: {e.Message}", e);
        }
    }
}
