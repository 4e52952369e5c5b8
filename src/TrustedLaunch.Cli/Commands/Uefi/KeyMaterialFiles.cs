using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Cli.Commands.Uefi;

/// <summary>Reads certificates (DER or PEM), private keys (PEM) and signature-database entries given on the command line.</summary>
internal static class KeyMaterialFiles
{
    public static X509Certificate2 LoadCertificate(string path)
    {
        if (!File.Exists(path))
            throw new CliException(ExitCode.BadInput, $"Certificate file not found: {path}");
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (CryptographicException e)
        {
            throw new CliException(ExitCode.BadInput, $"{path} is not a DER or PEM X.509 certificate: {e.Message}");
        }
    }

    /// <summary>The certificate with its private key from a PEM (or DER) certificate file and a PEM key file.</summary>
    public static X509Certificate2 LoadSigner(string certificatePath, string keyPath)
    {
        using var cert = LoadCertificate(certificatePath);
        if (!File.Exists(keyPath))
            throw new CliException(ExitCode.BadInput, $"Key file not found: {keyPath}");
        string pem = File.ReadAllText(keyPath);
        try
        {
            using var certRsa = cert.GetRSAPublicKey()
                ?? throw new CliException(ExitCode.BadInput, $"{certificatePath}: edk2 verifies only RSA signers; this certificate's key is {cert.PublicKey.Oid.FriendlyName}.");
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            if (!rsa.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(certRsa.ExportSubjectPublicKeyInfo()))
                throw new CliException(ExitCode.BadInput, $"{keyPath} is not the private key of {certificatePath}.");
            return cert.CopyWithPrivateKey(rsa);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new CliException(ExitCode.BadInput, $"{keyPath} holds no PEM RSA private key: {e.Message}");
        }
    }

    /// <summary>An entry given as a certificate file or as ALG:HEX (sha256:…).</summary>
    public static SignatureDatabaseEntry LoadEntry(string value, Guid owner)
    {
        if (!File.Exists(value) && value.Contains(':', StringComparison.Ordinal))
            return SignatureDatabaseEntry.FromHash(value, owner);
        using var cert = LoadCertificate(value);
        return SignatureDatabaseEntry.FromCertificate(cert.RawData, owner);
    }

    /// <summary>Writes a file that must not already exist (unless forced), atomically, optionally readable by the owner only.</summary>
    public static void WriteNew(string path, ReadOnlySpan<byte> content, bool force, bool ownerOnly = false)
    {
        string full = Path.GetFullPath(path);
        if (!force && File.Exists(full))
            throw new CliException(ExitCode.BadInput, $"{path} exists; pass --force to replace it.");
        DurableFile.Write(full, content, overwrite: force, ownerOnly);
    }
}
