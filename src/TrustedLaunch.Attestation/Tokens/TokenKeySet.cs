using System.Security.Cryptography;
using System.Text.Json;

namespace TrustedLaunch.Attestation;

/// <summary>
/// The verification keys of a JWK Set (RFC 7517 §5) as the service publishes it at <c>/certs</c>: EC P-256 keys for
/// ES256 and RSA keys (2048 bits or more) for RS256. Each key is bound to its algorithm here, once, so a token's
/// <c>alg</c> header can select nothing but a check against it (RFC 8725 §3.1). Keys of other types are skipped.
/// </summary>
public sealed class TokenKeySet : IDisposable
{
    /// <summary>Bigger documents are refused before parsing.</summary>
    public const int MaxDocumentBytes = 256 * 1024;

    private readonly Dictionary<string, TokenVerificationKey> _byKid;
    private readonly List<TokenVerificationKey> _keys;

    private TokenKeySet(List<TokenVerificationKey> keys)
    {
        _keys = keys;
        _byKid = new(StringComparer.Ordinal);
        foreach (TokenVerificationKey key in keys)
        {
            if (key.KeyId is not null && !_byKid.TryAdd(key.KeyId, key))
                throw new AttestationTokenException(AttestationTokenError.KeySetMalformed, $"the key set has two keys with kid '{key.KeyId}'");
        }
    }

    /// <summary>The usable keys.</summary>
    public int Count => _keys.Count;

    /// <summary>Parses a JWK Set document.</summary>
    /// <exception cref="AttestationTokenException"><see cref="AttestationTokenError.KeySetMalformed"/>.</exception>
    public static TokenKeySet Parse(ReadOnlySpan<byte> json)
    {
        if (json.Length > MaxDocumentBytes)
            throw Malformed($"it is {json.Length} bytes, over the {MaxDocumentBytes}-byte limit");
        var keys = new List<TokenVerificationKey>();
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("keys", out JsonElement array) || array.ValueKind != JsonValueKind.Array)
            {
                throw Malformed("it has no \"keys\" array (RFC 7517 §5.1)");
            }

            foreach (JsonElement jwk in array.EnumerateArray())
            {
                if (TokenVerificationKey.FromJwk(jwk) is TokenVerificationKey key)
                    keys.Add(key);
            }
        }
        catch (JsonException e)
        {
            keys.ForEach(k => k.Dispose());
            throw new AttestationTokenException(AttestationTokenError.KeySetMalformed, $"the key set is not JSON: {e.Message}", e);
        }
        catch (AttestationTokenException)
        {
            keys.ForEach(k => k.Dispose());
            throw;
        }

        if (keys.Count == 0)
            throw Malformed("it holds no EC P-256 or RSA signing key");
        return new TokenKeySet(keys);
    }

    /// <summary>The key a token header names; with no <c>kid</c>, the only key of a one-key set.</summary>
    internal TokenVerificationKey? Find(string? kid) =>
        kid is null ? (_keys.Count == 1 ? _keys[0] : null) : _byKid.GetValueOrDefault(kid);

    public void Dispose() => _keys.ForEach(k => k.Dispose());

    internal static AttestationTokenException Malformed(string why) =>
        new(AttestationTokenError.KeySetMalformed, $"the key set cannot be used: {why}");
}

/// <summary>One public key of a <see cref="TokenKeySet"/> and the only algorithm it verifies.</summary>
internal sealed class TokenVerificationKey : IDisposable
{
    private readonly ECDsa? _ecdsa;
    private readonly RSA? _rsa;

    private TokenVerificationKey(string? keyId, ECDsa? ecdsa, RSA? rsa)
    {
        KeyId = keyId;
        _ecdsa = ecdsa;
        _rsa = rsa;
    }

    public string? KeyId { get; }

    public TokenAlgorithm Algorithm => _ecdsa is not null ? TokenAlgorithm.ES256 : TokenAlgorithm.RS256;

    // RFC 7518 §3.4: an ES256 signature is R‖S, 32 bytes each; §3.3: RS256 is PKCS#1 v1.5 over SHA-256.
    public bool Verify(ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature) => _ecdsa is not null
        ? signature.Length == 64 && _ecdsa.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
        : _rsa!.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>A key from its JWK, or null for a key that is not for signatures or of a type we do not verify with.</summary>
    public static TokenVerificationKey? FromJwk(JsonElement jwk)
    {
        if (jwk.ValueKind != JsonValueKind.Object)
            throw TokenKeySet.Malformed("a key is not a JSON object");
        string? kid = Text(jwk, "kid");
        if (Text(jwk, "use") is string use && use != "sig")
            return null; // RFC 7517 §4.2: an encryption key never verifies a token
        string? alg = Text(jwk, "alg");
        switch (Text(jwk, "kty"))
        {
            case "EC" when Text(jwk, "crv") == "P-256" && alg is null or "ES256":
            {
                byte[] x = Coordinate(jwk, "x", kid);
                byte[] y = Coordinate(jwk, "y", kid);
                try
                {
                    return new(kid, ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } }), null);
                }
                catch (CryptographicException e)
                {
                    throw TokenKeySet.Malformed($"key '{kid}' is not a point of P-256 ({e.Message})");
                }
            }

            case "RSA" when alg is null or "RS256":
            {
                byte[] n = Bytes(jwk, "n", kid);
                byte[] e = Bytes(jwk, "e", kid);
                if (n.Length < 256)
                    throw TokenKeySet.Malformed($"key '{kid}' is an RSA key of {n.Length * 8} bits; at least 2048 are required");
                var rsa = RSA.Create();
                try
                {
                    rsa.ImportParameters(new RSAParameters { Modulus = n, Exponent = e });
                }
                catch (CryptographicException ex)
                {
                    rsa.Dispose();
                    throw TokenKeySet.Malformed($"key '{kid}' is not a usable RSA key ({ex.Message})");
                }

                return new(kid, null, rsa);
            }

            default:
                return null;
        }
    }

    public void Dispose()
    {
        _ecdsa?.Dispose();
        _rsa?.Dispose();
    }

    private static string? Text(JsonElement jwk, string name) =>
        jwk.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[] Coordinate(JsonElement jwk, string name, string? kid)
    {
        byte[] value = Bytes(jwk, name, kid);
        return value.Length == 32 ? value : throw TokenKeySet.Malformed($"key '{kid}': \"{name}\" is {value.Length} bytes, a P-256 coordinate is 32 (RFC 7518 §6.2.1.2)");
    }

    private static byte[] Bytes(JsonElement jwk, string name, string? kid)
    {
        if (Text(jwk, name) is not string text)
            throw TokenKeySet.Malformed($"key '{kid}' has no \"{name}\"");
        try
        {
            return System.Buffers.Text.Base64Url.DecodeFromChars(text);
        }
        catch (FormatException)
        {
            throw TokenKeySet.Malformed($"key '{kid}': \"{name}\" is not base64url");
        }
    }
}
