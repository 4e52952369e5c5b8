using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Testing;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Uefi.VariableStore.Tests;

/// <summary>An RSA key and self-signed certificate made by openssl, as PEM files (for efitools/sbsign) and as .NET objects.</summary>
public sealed class TestKey : IDisposable
{
    private TestKey(string directory, string name)
    {
        KeyPath = Path.Combine(directory, name + ".key");
        CertificatePath = Path.Combine(directory, name + ".crt");
        var result = ExternalTool.Run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", KeyPath, "-out", CertificatePath,
            "-subj", $"/CN=TL test {name}", "-days", "3650", "-sha256"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Certificate = X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
    }

    public string KeyPath { get; }

    public string CertificatePath { get; }

    /// <summary>With its private key.</summary>
    public X509Certificate2 Certificate { get; }

    public byte[] Der => Certificate.RawData;

    public static TestKey Create(string directory, string name) => new(directory, name);

    public void Dispose() => Certificate.Dispose();
}

internal static class TestStores
{
    /// <summary>A custom-template store with PK <paramref name="pk"/>, KEK <paramref name="kek"/> and db <paramref name="db"/>.</summary>
    public static OvmfVariableStore Custom(TestKey pk, TestKey kek, TestKey db) => SecureBootStoreFactory.Create(new SecureBootStoreOptions
    {
        Template = SecureBootTemplate.Custom,
        PlatformKey = pk.Der,
        Kek = [SignatureDatabaseEntry.FromCertificate(kek.Der, SecureBootStoreOptions.TrustedLaunchOwner)],
        Db = [SignatureDatabaseEntry.FromCertificate(db.Der, SecureBootStoreOptions.TrustedLaunchOwner)],
    });

    public static byte[] Esl(TestKey key, Guid owner) => SignatureDatabaseEntry.EncodeLists([SignatureDatabaseEntry.FromCertificate(key.Der, owner)]);

    public static IReadOnlyList<ReadOnlyMemory<byte>> DbCertificates(OvmfVariableStore store) => store.SecureBoot.Db!.Certificates;

    public static readonly EfiVariableAttributes AppendAttributes = EfiVariableAttributes.SecureBootDatabase | EfiVariableAttributes.AppendWrite;
}
