using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TrustedLaunch.Attestation.Evidence;

/// <summary>What the guest learned from a bound token it opened and whose signature verified.</summary>
/// <param name="KeyId">The JWS <c>kid</c>: the service key that signed it.</param>
/// <param name="Expires">The <c>exp</c> claim.</param>
/// <param name="BoundKeyId">The <c>cnf.jwk.kid</c>: the vTPM key the token says it was encrypted to.</param>
public sealed record VerifiedBoundToken(string KeyId, DateTimeOffset Expires, string? BoundKeyId);

/// <summary>
/// The guest's check of the signed token inside a bound token (RFC 7515 §5.2), BCL only so the NativeAOT guest agent
/// can carry it without the service's token library: the algorithm comes from the key (EC P-256 → ES256, RSA ≥ 2048
/// bits → RS256; RFC 8725 §3.1), never from the header, and keys marked <c>use: enc</c> never verify. The relying
/// party's full validation (issuer, VM, lifetime) is <c>AttestationTokenValidator</c> in TrustedLaunch.Attestation.
/// </summary>
public static class BoundTokenSignature
{
    private const int MaxJwksBytes = 64 * 1024;

    /// <exception cref="BoundTokenException">Malformed, no matching key, or a signature that does not verify.</exception>
    public static VerifiedBoundToken Verify(string jws, string jwks)
    {
        ArgumentNullException.ThrowIfNull(jws);
        ArgumentNullException.ThrowIfNull(jwks);
        string[] parts = jws.Split('.');
        if (parts.Length != 3)
            throw new BoundTokenException($"the decrypted token has {parts.Length} dot-separated parts; a JWS has 3 (RFC 7515 §7.1)");
        using JsonDocument header = Parse(Decode(parts[0], "JWS header"), "JWS header");
        string alg = Text(header.RootElement, "alg") ?? throw new BoundTokenException("the JWS header has no \"alg\"");
        string kid = Text(header.RootElement, "kid") ?? throw new BoundTokenException("the JWS header has no \"kid\"");
        if (Encoding.UTF8.GetByteCount(jwks) > MaxJwksBytes)
            throw new BoundTokenException($"the JWK Set is larger than {MaxJwksBytes} bytes");
        using JsonDocument set = Parse(Encoding.UTF8.GetBytes(jwks), "JWK Set");
        JsonElement key = FindKey(set.RootElement, kid);
        byte[] input = Encoding.ASCII.GetBytes(jws, 0, parts[0].Length + 1 + parts[1].Length);
        byte[] signature = Decode(parts[2], "JWS signature");
        if (!VerifyWith(key, alg, kid, input, signature))
            throw new BoundTokenException($"the token's signature does not verify with key '{kid}'");

        using JsonDocument claims = Parse(Decode(parts[1], "JWS payload"), "JWS payload");
        if (!claims.RootElement.TryGetProperty("exp", out JsonElement exp) || !exp.TryGetInt64(out long seconds))
            throw new BoundTokenException("the token has no numeric \"exp\"");
        string? bound = claims.RootElement.TryGetProperty("cnf", out JsonElement cnf) && cnf.ValueKind == JsonValueKind.Object
            && cnf.TryGetProperty("jwk", out JsonElement jwk) && jwk.ValueKind == JsonValueKind.Object ? Text(jwk, "kid") : null;
        return new VerifiedBoundToken(kid, DateTimeOffset.FromUnixTimeSeconds(seconds), bound);
    }

    private static JsonElement FindKey(JsonElement set, string kid)
    {
        if (set.ValueKind != JsonValueKind.Object || !set.TryGetProperty("keys", out JsonElement keys) || keys.ValueKind != JsonValueKind.Array)
            throw new BoundTokenException("the JWK Set has no \"keys\" array (RFC 7517 §5)");
        foreach (JsonElement key in keys.EnumerateArray())
        {
            if (key.ValueKind == JsonValueKind.Object && Text(key, "kid") == kid && Text(key, "use") != "enc")
                return key.Clone();
        }

        throw new BoundTokenException($"no signing key in the JWK Set has kid '{kid}'");
    }

    private static bool VerifyWith(JsonElement key, string alg, string kid, byte[] input, byte[] signature)
    {
        switch (Text(key, "kty"))
        {
            case "EC" when Text(key, "crv") == "P-256":
                Require(alg, "ES256", kid);
                using (var ec = ECDsa.Create(new ECParameters
                {
                    Curve = ECCurve.NamedCurves.nistP256,
                    Q = new ECPoint { X = Member(key, "x"), Y = Member(key, "y") },
                }))
                {
                    return signature.Length == 64 && ec.VerifyData(input, signature, HashAlgorithmName.SHA256);
                }

            case "RSA":
                Require(alg, "RS256", kid);
                using (var rsa = RSA.Create(new RSAParameters { Modulus = Member(key, "n"), Exponent = Member(key, "e") }))
                {
                    if (rsa.KeySize < 2048)
                        throw new BoundTokenException($"key '{kid}' is RSA-{rsa.KeySize}; at least 2048 bits are required");
                    return rsa.VerifyData(input, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                }

            default:
                throw new BoundTokenException($"key '{kid}' is neither an EC P-256 nor an RSA key");
        }
    }

    private static void Require(string alg, string expected, string kid)
    {
        if (alg != expected)
            throw new BoundTokenException($"\"alg\": \"{alg}\" does not match key '{kid}', an {expected} key");
    }

    private static byte[] Member(JsonElement key, string name) =>
        Text(key, name) is string text ? Decode(text, $"JWK member \"{name}\"") : throw new BoundTokenException($"the JWK has no \"{name}\"");

    private static JsonDocument Parse(byte[] json, string what)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new BoundTokenException($"the {what} is not JSON: {e.Message}", e);
        }
    }

    private static string? Text(JsonElement obj, string name) => BoundTokenEncoding.Text(obj, name);

    private static byte[] Decode(string part, string what) => BoundTokenEncoding.Decode(part, what);
}
