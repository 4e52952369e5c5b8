using System.Text.Json;

namespace TrustedLaunch.Attestation;

/// <summary>What a relying party requires of a token beyond a valid signature.</summary>
public sealed record TokenExpectations
{
    /// <summary>The issuer (<c>iss</c>) the token must name, compared ordinally.</summary>
    public required string Issuer { get; init; }

    /// <summary>The VM the token must be about (<c>x-ms-azurevm-vmid</c>); null accepts any VM.</summary>
    public Guid? VmId { get; init; }

    /// <summary>Tolerated clock difference for <c>exp</c> and <c>nbf</c>.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>A token that passed every check, with its claims.</summary>
public sealed record ValidatedAttestationToken(TokenAlgorithm Algorithm, string? KeyId, Guid VmId, DateTimeOffset Expires, JsonElement Claims);

/// <summary>
/// Checks an attestation token as a relying party must (RFC 7515 §5.2, RFC 7519 §7.2, RFC 8725): the algorithm comes
/// from the key, never from the token (so <c>none</c>, HMAC with the public key as secret, or RS256 against an EC key
/// are refused), then the signature, the issuer, the lifetime and the VM. BCL only, like the issuer, so it stays AOT-compatible.
/// </summary>
public sealed class AttestationTokenValidator(TokenKeySet keys, TimeProvider time)
{
    /// <summary>Tokens longer than this are refused before decoding (ours are a few kilobytes).</summary>
    public const int MaxTokenChars = 64 * 1024;

    /// <summary>Validates <paramref name="token"/>.</summary>
    /// <exception cref="AttestationTokenException">The token must not be accepted; <see cref="AttestationTokenException.Error"/> says why.</exception>
    public ValidatedAttestationToken Validate(string token, TokenExpectations expectations)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(expectations);
        token = token.Trim();
        if (token.Length > MaxTokenChars)
            throw Refuse(AttestationTokenError.Malformed, $"the token is {token.Length} characters, over the {MaxTokenChars} limit");
        string[] parts = token.Split('.');
        if (parts.Length == 5)
            throw Refuse(AttestationTokenError.Malformed, "the token is a JWE (RFC 7516 §7.1): a token bound to a vTPM, to be opened by that vTPM first (BoundTokenJwe.Decrypt), then validated");
        if (parts.Length != 3) // RFC 7516 tokens have five parts; an unsecured JWT still has three with an empty signature
            throw Refuse(AttestationTokenError.Malformed, $"the token has {parts.Length} dot-separated parts; a JWS has 3 (RFC 7515 §7.1)");

        using JsonDocument header = ParseObject(parts[0], "header");
        string? alg = Text(header.RootElement, "alg");
        if (alg is null)
            throw Refuse(AttestationTokenError.Malformed, "the header has no \"alg\" (RFC 7515 §4.1.1)");
        if (header.RootElement.TryGetProperty("crit", out _))
            throw Refuse(AttestationTokenError.AlgorithmNotAllowed, "the header has \"crit\" extensions this validator does not implement (RFC 7515 §4.1.11)");
        if (!Enum.TryParse(alg, ignoreCase: false, out TokenAlgorithm algorithm) || alg != algorithm.ToString())
            throw Refuse(AttestationTokenError.AlgorithmNotAllowed, $"\"alg\": \"{alg}\" is not allowed; only ES256 and RS256 are");

        string? kid = Text(header.RootElement, "kid");
        TokenVerificationKey key = keys.Find(kid)
            ?? throw Refuse(AttestationTokenError.UnknownKey, kid is null
                ? "the header has no \"kid\" and the key set has several keys"
                : $"no key in the key set has kid '{kid}'");
        if (key.Algorithm != algorithm)
            throw Refuse(AttestationTokenError.AlgorithmNotAllowed, $"\"alg\": \"{alg}\" does not match key '{kid}', which is an {key.Algorithm} key");

        byte[] signature = Decode(parts[2], "signature");
        // RFC 7515 §5.2 step 8: the signing input is the token up to its last dot, as sent.
        byte[] signingInput = System.Text.Encoding.ASCII.GetBytes(token, 0, parts[0].Length + 1 + parts[1].Length);
        if (!key.Verify(signingInput, signature))
            throw Refuse(AttestationTokenError.SignatureInvalid, $"the signature does not verify with key '{kid}'");

        using JsonDocument payload = ParseObject(parts[1], "payload");
        JsonElement claims = payload.RootElement;
        if (Text(claims, AttestationClaims.Issuer) is not string issuer || !string.Equals(issuer, expectations.Issuer, StringComparison.Ordinal))
            throw Refuse(AttestationTokenError.WrongIssuer, $"the token was issued by '{Text(claims, AttestationClaims.Issuer)}', not '{expectations.Issuer}'");

        DateTimeOffset now = time.GetUtcNow();
        DateTimeOffset expires = Instant(claims, AttestationClaims.Expiry) ?? throw Refuse(AttestationTokenError.Expired, "the token has no \"exp\"");
        if (now >= expires + expectations.ClockSkew)
            throw Refuse(AttestationTokenError.Expired, $"the token expired at {expires:O}");
        if (Instant(claims, AttestationClaims.NotBefore) is DateTimeOffset notBefore && now < notBefore - expectations.ClockSkew)
            throw Refuse(AttestationTokenError.NotYetValid, $"the token is not valid before {notBefore:O}");

        if (Text(claims, AttestationClaims.VmId) is not string vmText || !Guid.TryParse(vmText, out Guid vmId))
            throw Refuse(AttestationTokenError.WrongVm, $"the token names no VM (\"{AttestationClaims.VmId}\")");
        if (expectations.VmId is Guid expected && vmId != expected)
            throw Refuse(AttestationTokenError.WrongVm, $"the token was issued for VM {vmId:D}, not {expected:D}");

        return new ValidatedAttestationToken(algorithm, kid, vmId, expires, claims.Clone());
    }

    /// <summary>As <see cref="Validate"/>, without throwing for a refused token.</summary>
    public bool TryValidate(string token, TokenExpectations expectations, out ValidatedAttestationToken? validated, out AttestationTokenException? refusal)
    {
        try
        {
            validated = Validate(token, expectations);
            refusal = null;
            return true;
        }
        catch (AttestationTokenException e)
        {
            validated = null;
            refusal = e;
            return false;
        }
    }

    private static JsonDocument ParseObject(string part, string what)
    {
        byte[] json = Decode(part, what);
        try
        {
            // RFC 7515 §5.2 step 4 leaves duplicate member names to the validator: they are refused here.
            JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16, AllowDuplicateProperties = false });
            if (document.RootElement.ValueKind == JsonValueKind.Object)
                return document;
            document.Dispose();
        }
        catch (JsonException e)
        {
            throw new AttestationTokenException(AttestationTokenError.Malformed, $"the {what} is not JSON: {e.Message}", e);
        }

        throw Refuse(AttestationTokenError.Malformed, $"the {what} is not a JSON object");
    }

    private static byte[] Decode(string part, string what)
    {
        try
        {
            return System.Buffers.Text.Base64Url.DecodeFromChars(part);
        }
        catch (FormatException e)
        {
            throw new AttestationTokenException(AttestationTokenError.Malformed, $"the {what} is not base64url (RFC 7515 §2)", e);
        }
    }

    private static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // RFC 7519 §2 NumericDate: seconds since the epoch; fractions are allowed and truncated here.
    private static DateTimeOffset? Instant(JsonElement claims, string name)
    {
        if (!claims.TryGetProperty(name, out JsonElement value) || value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double seconds)
            || seconds < 0 || seconds > 253402300799)
        {
            return null;
        }

        return DateTimeOffset.FromUnixTimeSeconds((long)seconds);
    }

    private static AttestationTokenException Refuse(AttestationTokenError error, string message) => new(error, message);
}
