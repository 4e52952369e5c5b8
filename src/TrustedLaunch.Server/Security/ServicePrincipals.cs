using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using TrustedLaunch.Server.Security.Stores;

namespace TrustedLaunch.Server.Security;

/// <summary>Creating principals and host join tokens, the same way for <c>tl server principal|host-token</c> and the API.</summary>
public static class ServicePrincipals
{
    public const string JoinTokenPrefix = "tlj1.";

    /// <summary>A new principal with one role at one scope, and its API key (shown once; only its hash is stored).</summary>
    public static async Task<(PrincipalRecord Principal, string ApiKey)> CreateAsync(IPrincipalStore store, string displayName, ServiceRole role,
        string scope, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        Guid appId = Guid.NewGuid();
        (string key, byte[] hash) = ApiKeys.Create(appId);
        var principal = new PrincipalRecord(Guid.NewGuid(), appId, displayName, role, scope, hash, now);
        await store.AddAsync(principal, cancellationToken);
        return (principal, key);
    }

    /// <summary>A single-use join token for <paramref name="hostName"/>, valid for <paramref name="lifetime"/> (shown once; only its hash is stored).</summary>
    public static async Task<string> CreateJoinTokenAsync(IHostCredentialStore store, string hostName, DateTimeOffset now, TimeSpan lifetime,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        string token = JoinTokenPrefix + Base64Url.EncodeToString(secret);
        CryptographicOperations.ZeroMemory(secret);
        await store.AddJoinTokenAsync(JoinTokenHash(token), hostName, now, now + lifetime, cancellationToken);
        return token;
    }

    public static byte[] JoinTokenHash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token ?? ""));

    /// <summary>Display names: 1-120 printable characters.</summary>
    public static bool IsDisplayName(string? name) => name is { Length: > 0 and <= 120 } && !name.Any(char.IsControl);
}
