using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Attestation;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Server;

/// <summary>A token issued for a pass: the JWS compact form, its <c>jti</c> and its claims (the JWS payload).</summary>
public sealed record IssuedToken(string Jws, string Id, string ClaimsJson);

/// <summary>
/// The service's token signer: the library's <see cref="AttestationTokenIssuer"/> over a signing key kept in the data
/// folder (<c>token-signing-es256.pem</c> / <c>-rs256.pem</c>, PKCS#8 PEM, mode 0600; created on first start), plus
/// the JWK Set published at <c>/certs</c>. The issuer URL is resolved on first use, after Kestrel bound its port.
/// </summary>
public sealed class TokenService : IDisposable
{
    private readonly TokenSigningKey _key;
    private readonly Lazy<string> _issuer;
    private readonly Lazy<AttestationTokenIssuer> _signer;

    private TokenService(TokenSigningKey key, Func<string> issuer, TimeProvider time)
    {
        _key = key;
        _issuer = new Lazy<string>(issuer);
        _signer = new Lazy<AttestationTokenIssuer>(() => new AttestationTokenIssuer(_key, _issuer.Value, time));
        Jwks = _key.ToJwks();
    }

    /// <summary>The <c>iss</c> of every token and the OpenID <c>issuer</c>.</summary>
    public string Issuer => _issuer.Value;

    /// <summary>The JWS <c>alg</c>: ES256 or RS256.</summary>
    public string Algorithm => _key.Algorithm.ToString();

    /// <summary>The JWK Set (public key and its certificate, <c>x5c</c>) served at <c>/certs</c>, UTF-8 JSON.</summary>
    public byte[] Jwks { get; }

    /// <summary>Claim names a token may carry (OpenID <c>claims_supported</c>).</summary>
    public IReadOnlyList<string> ClaimsSupported { get; } =
    [
        AttestationClaims.Issuer, AttestationClaims.IssuedAt, AttestationClaims.NotBefore, AttestationClaims.Expiry, AttestationClaims.TokenId,
        AttestationClaims.SecureBoot, AttestationClaims.AttestationType, AttestationClaims.ProtocolVersion, AttestationClaims.VmId,
        AttestationClaims.AttestedPcrs, AttestationClaims.DbValidated, AttestationClaims.DbxValidated,
        AttestationClaims.DefaultSecureBootKeysValidated, AttestationClaims.KernelDebugEnabled, AttestationClaims.BootDebugEnabled,
        AttestationClaims.IsWindows, AttestationClaims.OsDistro, AttestationClaims.OsType, AttestationClaims.OsVersionMajor,
        AttestationClaims.OsVersionMinor, AttestationClaims.Version, AttestationClaims.BaselineEarly, AttestationClaims.BaselineLate,
        AttestationClaims.BootComponents, AttestationClaims.Findings, AttestationClaims.Policy, AttestationClaims.KernelCommandLine,
    ];

    /// <summary>The key file for <paramref name="algorithm"/> inside <paramref name="dataDirectory"/>.</summary>
    public static string KeyPath(string dataDirectory, string algorithm) =>
        Path.Combine(dataDirectory, $"token-signing-{algorithm.ToLowerInvariant()}.pem");

    /// <summary>Loads the signing key for the configured algorithm, creating it (mode 0600) when absent.</summary>
    /// <exception cref="TokenKeyException">Unknown algorithm, unreadable key, or a key file others can read.</exception>
    public static TokenService Open(AttestationServiceOptions options, Func<string> issuer, TimeProvider time, ILogger<TokenService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.TryParse(options.TokenAlgorithm, ignoreCase: false, out TokenAlgorithm algorithm) || !Enum.IsDefined(algorithm))
            throw new TokenKeyException($"Token algorithm '{options.TokenAlgorithm}' is not ES256 or RS256.");
        string path = KeyPath(options.DataDirectory, options.TokenAlgorithm);
        TokenSigningKey key;
        if (File.Exists(path))
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
                throw new TokenKeyException($"Token-signing key {path} is accessible to other users; chmod 600 it (or delete it to make a new one).");
            try
            {
                key = TokenSigningKey.FromPem(File.ReadAllText(path));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or FormatException or System.Security.Cryptography.CryptographicException)
            {
                throw new TokenKeyException($"Token-signing key {path} cannot be read: {e.Message}", e);
            }

            if (key.Algorithm != algorithm)
                throw new TokenKeyException($"Token-signing key {path} is not an {algorithm} key.");
        }
        else
        {
            key = TokenSigningKey.Create(algorithm, time: time);
            try
            {
                OwnerOnlyFile.WriteNew(path, Encoding.ASCII.GetBytes(key.ExportPem()));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new TokenKeyException($"Cannot write token-signing key {path}: {e.Message}", e);
            }

            Log.SigningKeyCreated(logger, path, algorithm.ToString());
        }

        return new TokenService(key, issuer, time);
    }

    public void Dispose() => _key.Dispose();

    /// <summary>Signs a token for a passed result.</summary>
    public IssuedToken Issue(AttestationResult result, Guid vmId)
    {
        string jws = _signer.Value.Issue(result, vmId);
        string claims = PayloadOf(jws);
        using JsonDocument document = JsonDocument.Parse(claims);
        string id = document.RootElement.TryGetProperty("jti", out JsonElement jti) && jti.ValueKind == JsonValueKind.String ? jti.GetString()! : "";
        return new IssuedToken(jws, id, claims);
    }

    /// <summary>
    /// The token of a pass wrapped for the VM's bound key: JWE compact, RSA-OAEP-256 + A256GCM (RFC 7516, RFC 7518 §4.3,
    /// §5.3), which only that vTPM, in the attested PCR state, can open.
    /// </summary>
    public static string EncryptTo(string jws, VerifiedBoundKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        using System.Security.Cryptography.RSA recipient = key.Public.ToRsa();
        return Attestation.Evidence.BoundTokenJwe.Encrypt(jws, recipient, key.KeyId);
    }

    // RFC 7515 §7.1: header.payload.signature, each base64url (RFC 7515 §2) without padding.
    private static string PayloadOf(string jws)
    {
        string[] parts = jws.Split('.');
        if (parts.Length != 3)
            throw new InvalidOperationException("The issuer produced a token that is not JWS compact serialization.");
        string payload = parts[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        return Encoding.UTF8.GetString(Convert.FromBase64String(payload));
    }
}

/// <summary>The token-signing key cannot be created or loaded.</summary>
public sealed class TokenKeyException : Exception
{
    public TokenKeyException() { }

    public TokenKeyException(string message) : base(message) { }

    public TokenKeyException(string message, Exception innerException) : base(message, innerException) { }
}
