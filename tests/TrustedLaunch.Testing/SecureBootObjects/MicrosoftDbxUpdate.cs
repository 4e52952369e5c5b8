using System.Security.Cryptography;

namespace TrustedLaunch.Testing.SecureBootObjects;

/// <summary>Microsoft's real x64 DBXUpdate.bin (README.md beside it), checked against its pinned SHA-256 before use.</summary>
public static class MicrosoftDbxUpdate
{
    public const string Sha256 = "2089e3125e611376cb44326b5765674255443b2484f88de97251939d18055f68";

    /// <summary>The file beside the test assembly.</summary>
    public static string Path
    {
        get
        {
            string path = System.IO.Path.Combine(AppContext.BaseDirectory, "SecureBootObjects", "DBXUpdate.bin");
            string actual = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
            if (actual != Sha256)
                throw new InvalidOperationException($"{path} has SHA-256 {actual}, not Microsoft's {Sha256}.");
            return path;
        }
    }
}
