namespace TrustedLaunch.Testing.Qemu;

/// <summary>A certificate and its private key as PEM files, made with openssl for a test.</summary>
public sealed record TestKey(string Name, string CertificatePem, string KeyPem, string CertificateDer);

/// <summary>Test PKI made with the openssl command line: self-signed roots and certificates issued by them.</summary>
public static class TestSigningKeys
{
    /// <summary>A self-signed RSA-2048 CA certificate with subject CN=<paramref name="commonName"/>.</summary>
    public static TestKey CreateRoot(string directory, string name, string commonName)
    {
        var key = Paths(directory, name);
        Openssl(directory, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650", "-subj", $"/CN={commonName}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,digitalSignature",
            "-keyout", key.KeyPem, "-out", key.CertificatePem);
        return ToDer(directory, key);
    }

    /// <summary>A certificate for CN=<paramref name="commonName"/> issued by <paramref name="issuer"/>; a CA when <paramref name="isCa"/>.</summary>
    public static TestKey CreateIssued(string directory, string name, string commonName, TestKey issuer, bool isCa)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        var key = Paths(directory, name);
        string csr = Path.Combine(directory, name + ".csr");
        string ext = Path.Combine(directory, name + ".ext");
        File.WriteAllText(ext, isCa
            ? "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,digitalSignature\n"
            : "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n");
        Openssl(directory, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", $"/CN={commonName}", "-keyout", key.KeyPem, "-out", csr);
        Openssl(directory, "x509", "-req", "-in", csr, "-CA", issuer.CertificatePem, "-CAkey", issuer.KeyPem, "-CAcreateserial",
            "-sha256", "-days", "3650", "-extfile", ext, "-out", key.CertificatePem);
        return ToDer(directory, key);
    }

    /// <summary>Signs a PE image with sbsign (the Debian/Ubuntu signing tool), appending the signer's issuer chain when given.</summary>
    public static void Sbsign(TestKey key, string input, string output, string? addCertificatePem = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        List<string> args = ["--key", key.KeyPem, "--cert", key.CertificatePem, "--output", output];
        if (addCertificatePem is not null)
            args.AddRange(["--addcert", addCertificatePem]);
        args.Add(input);
        var result = ExternalTool.Run("sbsign", args);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"sbsign failed: {result}");
    }

    private static TestKey Paths(string directory, string name) =>
        new(name, Path.Combine(directory, name + ".crt"), Path.Combine(directory, name + ".key"), Path.Combine(directory, name + ".der"));

    private static TestKey ToDer(string directory, TestKey key)
    {
        Openssl(directory, "x509", "-in", key.CertificatePem, "-outform", "DER", "-out", key.CertificateDer);
        return key;
    }

    private static void Openssl(string directory, params string[] args)
    {
        var result = ExternalTool.Run("openssl", args, directory);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"openssl {string.Join(' ', args)} failed: {result}");
    }
}
