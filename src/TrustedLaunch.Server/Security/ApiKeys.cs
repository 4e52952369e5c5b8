using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace TrustedLaunch.Server.Security;

/// <summary>
/// A service principal's API key: <c>tl1.{appId:N}.{secret}</c>, the secret 256 random bits in base64url. Only the
/// SHA-256 of the secret is stored; a presented key is compared in constant time. The prefix keeps an API key apart
/// from a JWT (which starts with <c>eyJ</c>).
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "tl1.";

    private const int SecretBytes = 32;

    /// <summary>A new key for <paramref name="appId"/> and the hash to store.</summary>
    public static (string Key, byte[] SecretHash) Create(Guid appId)
    {
        byte[] secret = RandomNumberGenerator.GetBytes(SecretBytes);
        string text = Base64Url.EncodeToString(secret);
        CryptographicOperations.ZeroMemory(secret);
        return ($"{Prefix}{appId:N}.{text}", Hash(text));
    }

    public static bool LooksLikeKey(string token) => token.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Splits a presented key; false when it is not one.</summary>
    public static bool TryParse(string token, out Guid appId, out string secret)
    {
        ArgumentNullException.ThrowIfNull(token);
        appId = Guid.Empty;
        secret = "";
        if (!LooksLikeKey(token))
            return false;
        string rest = token[Prefix.Length..];
        int dot = rest.IndexOf('.', StringComparison.Ordinal);
        if (dot != 32 || !Guid.TryParseExact(rest[..dot], "N", out appId) || rest.Length - dot - 1 is < 40 or > 60)
            return false;
        secret = rest[(dot + 1)..];
        return true;
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>Compares the presented secret with the stored hash in constant time.</summary>
    public static bool Matches(string secret, byte[] storedHash) => CryptographicOperations.FixedTimeEquals(Hash(secret), storedHash);
}
