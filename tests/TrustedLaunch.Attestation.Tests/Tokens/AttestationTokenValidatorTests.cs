using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Attestation.Tests.Tokens;

/// <summary>
/// The relying party's checks, attacked as RFC 8725 §2 lists: tokens are signed here by hand so that each attack
/// changes exactly one thing of an otherwise valid token.
/// </summary>
public sealed class AttestationTokenValidatorTests : IDisposable
{
    private const string Issuer = "https://attest.trustedlaunch.test";
    private static readonly Guid Vm = Guid.Parse("5f0b1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b");
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);

    private readonly TokenSigningKey _key = TokenSigningKey.Create(TokenAlgorithm.ES256);
    private readonly TokenKeySet _keys;

    public AttestationTokenValidatorTests() => _keys = TokenKeySet.Parse(_key.ToJwks());

    public void Dispose()
    {
        _keys.Dispose();
        _key.Dispose();
    }

    private static JsonObject Claims(Guid? vm = null) => new()
    {
        ["iss"] = Issuer,
        ["iat"] = Now.ToUnixTimeSeconds(),
        ["nbf"] = Now.ToUnixTimeSeconds(),
        ["exp"] = Now.AddHours(8).ToUnixTimeSeconds(),
        ["x-ms-attestation-type"] = "azurevm",
        ["x-ms-azurevm-vmid"] = (vm ?? Vm).ToString("D").ToUpperInvariant(),
        ["secureboot"] = true,
    };

    private JsonObject Header(string alg = "ES256") => new() { ["alg"] = alg, ["typ"] = "JWT", ["kid"] = _key.KeyId };

    private static string B64(string json) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

    private static string Sign(TokenSigningKey key, string header, string payload)
    {
        string input = $"{B64(header)}.{B64(payload)}";
        return $"{input}.{System.Buffers.Text.Base64Url.EncodeToString(key.Sign(Encoding.ASCII.GetBytes(input)))}";
    }

    private string Token(JsonObject? header = null, JsonObject? claims = null) =>
        Sign(_key, (header ?? Header()).ToJsonString(), (claims ?? Claims()).ToJsonString());

    private ValidatedAttestationToken Validate(string token, Guid? vm = null, DateTimeOffset? at = null, TokenKeySet? keys = null) =>
        new AttestationTokenValidator(keys ?? _keys, new FixedTimeProvider(at ?? Now.AddMinutes(1))).Validate(token, new TokenExpectations { Issuer = Issuer, VmId = vm });

    private AttestationTokenError Refused(string token, Guid? vm = null, DateTimeOffset? at = null, TokenKeySet? keys = null) =>
        Assert.Throws<AttestationTokenException>(() => Validate(token, vm, at, keys)).Error;

    [Theory]
    [InlineData(TokenAlgorithm.ES256)]
    [InlineData(TokenAlgorithm.RS256)]
    public void Validate_TokenOfTheIssuer_AcceptedWithItsClaims(TokenAlgorithm algorithm)
    {
        using TokenSigningKey key = TokenSigningKey.Create(algorithm);
        using TokenKeySet keys = TokenKeySet.Parse(key.ToJwks());
        string token = Sign(key, new JsonObject { ["alg"] = algorithm.ToString(), ["kid"] = key.KeyId }.ToJsonString(), Claims().ToJsonString());

        ValidatedAttestationToken valid = Validate(token, Vm, keys: keys);

        Assert.Equal(algorithm, valid.Algorithm);
        Assert.Equal(key.KeyId, valid.KeyId);
        Assert.Equal(Vm, valid.VmId);
        Assert.Equal(Now.AddHours(8), valid.Expires);
        Assert.True(valid.Claims.GetProperty("secureboot").GetBoolean());
    }

    [Fact]
    public void Attack_AlgNone_Refused()
    {
        string unsecured = $"{B64("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{B64(Claims().ToJsonString())}.";
        Assert.Equal(AttestationTokenError.AlgorithmNotAllowed, Refused(unsecured));
        Assert.Equal(AttestationTokenError.AlgorithmNotAllowed, Refused(Token(Header("None"))));
    }

    [Fact]
    public void Attack_Hs256WithThePublishedKeyAsSecret_Refused()
    {
        // The classic confusion: an HMAC keyed with bytes anyone can fetch from /certs.
        byte[] secret = _key.ToJwks();
        string input = $"{B64(Header("HS256").ToJsonString())}.{B64(Claims().ToJsonString())}";
        string token = $"{input}.{System.Buffers.Text.Base64Url.EncodeToString(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)))}";
        Assert.Equal(AttestationTokenError.AlgorithmNotAllowed, Refused(token));
    }

    [Fact]
    public void Attack_Rs256HeaderAgainstAnEcKey_Refused()
    {
        using RSA rsa = RSA.Create(2048);
        string input = $"{B64(Header("RS256").ToJsonString())}.{B64(Claims().ToJsonString())}";
        string token = $"{input}.{System.Buffers.Text.Base64Url.EncodeToString(rsa.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))}";
        Assert.Equal(AttestationTokenError.AlgorithmNotAllowed, Refused(token));
    }

    [Fact]
    public void Attack_CriticalHeaderExtension_Refused()
    {
        JsonObject header = Header();
        header["crit"] = new JsonArray("exp");
        Assert.Equal(AttestationTokenError.AlgorithmNotAllowed, Refused(Token(header)));
    }

    [Fact]
    public void Attack_TokenOfOneVmPresentedForAnother_Refused()
    {
        string token = Token(claims: Claims(Guid.Parse("0c7e9a4d-0000-4000-8000-000000000001")));
        Assert.Equal(AttestationTokenError.WrongVm, Refused(token, Vm));
        Assert.Equal(Guid.Parse("0c7e9a4d-0000-4000-8000-000000000001"), Validate(token).VmId); // only the expectation made it wrong
    }

    [Fact]
    public void Attack_ClaimEditedAfterSigning_SignatureInvalid()
    {
        string[] parts = Token().Split('.');
        string edited = $"{parts[0]}.{B64(Claims().ToJsonString().Replace("\"secureboot\":true", "\"secureboot\":false", StringComparison.Ordinal))}.{parts[2]}";
        Assert.Equal(AttestationTokenError.SignatureInvalid, Refused(edited));
    }

    [Fact]
    public void Attack_SignedByAnotherKeyUnderTheIssuersKid_SignatureInvalid()
    {
        using TokenSigningKey forger = TokenSigningKey.Create();
        Assert.Equal(AttestationTokenError.SignatureInvalid, Refused(Sign(forger, Header().ToJsonString(), Claims().ToJsonString())));
    }

    [Fact]
    public void Validate_KidNotInTheKeySet_UnknownKey()
    {
        JsonObject header = Header();
        header["kid"] = "someone-else";
        Assert.Equal(AttestationTokenError.UnknownKey, Refused(Token(header)));
    }

    [Fact]
    public void Validate_LifetimeAndIssuer_Enforced()
    {
        Assert.Equal(AttestationTokenError.Expired, Refused(Token(), at: Now.AddHours(8).AddMinutes(3)));
        Assert.Equal(AttestationTokenError.NotYetValid, Refused(Token(), at: Now.AddMinutes(-3)));
        Validate(Token(), at: Now.AddMinutes(-1)); // within the clock skew
        JsonObject noExpiry = Claims();
        noExpiry.Remove("exp");
        Assert.Equal(AttestationTokenError.Expired, Refused(Token(claims: noExpiry)));
        JsonObject otherIssuer = Claims();
        otherIssuer["iss"] = "https://attest.example";
        Assert.Equal(AttestationTokenError.WrongIssuer, Refused(Token(claims: otherIssuer)));
    }

    [Theory]
    [InlineData("only.two")]
    [InlineData("a.b.c.d.e")]
    [InlineData("!!!.e30.AA")]
    public void Validate_NotAJws_Malformed(string token) => Assert.Equal(AttestationTokenError.Malformed, Refused(token));

    [Fact]
    public void Validate_HostileEncodings_Malformed()
    {
        Assert.Equal(AttestationTokenError.Malformed, Refused($"{B64("[1,2]")}.{B64("{}")}.AA"));
        Assert.Equal(AttestationTokenError.Malformed, Refused($"{B64("{\"alg\":\"ES256\",\"alg\":\"none\"}")}.{B64("{}")}.AA"));
        Assert.Equal(AttestationTokenError.Malformed, Refused($"{B64(new string('[', 1000))}.{B64("{}")}.AA"));
        Assert.Equal(AttestationTokenError.Malformed, Refused(new string('a', AttestationTokenValidator.MaxTokenChars + 1)));
        Assert.Equal(AttestationTokenError.Malformed, Refused(Sign(_key, Header().ToJsonString(), "{\"iss\":1,\"iss\":2}")));
    }

    [Fact]
    public void KeySet_UnusableDocuments_RefusedNamingTheProblem()
    {
        AttestationTokenException e = Assert.Throws<AttestationTokenException>(() => TokenKeySet.Parse("{\"keys\":[]}"u8));
        Assert.Equal(AttestationTokenError.KeySetMalformed, e.Error);
        Assert.Contains("no EC P-256 or RSA", e.Message, StringComparison.Ordinal);
        Assert.Throws<AttestationTokenException>(() => TokenKeySet.Parse("not json"u8));
        Assert.Throws<AttestationTokenException>(() => TokenKeySet.Parse("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}"u8));
        using RSA small = RSA.Create(1024);
        RSAParameters p = small.ExportParameters(false);
        string weak = $"{{\"keys\":[{{\"kty\":\"RSA\",\"n\":\"{System.Buffers.Text.Base64Url.EncodeToString(p.Modulus)}\",\"e\":\"AQAB\"}}]}}";
        Assert.Contains("1024 bits", Assert.Throws<AttestationTokenException>(() => TokenKeySet.Parse(Encoding.UTF8.GetBytes(weak))).Message, StringComparison.Ordinal);
        JsonNode twice = JsonNode.Parse(_key.ToJwks())!;
        twice["keys"]!.AsArray().Add(twice["keys"]![0]!.DeepClone());
        Assert.Contains("two keys", Assert.Throws<AttestationTokenException>(() => TokenKeySet.Parse(Encoding.UTF8.GetBytes(twice.ToJsonString()))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeySet_EncryptionKeysAndOtherTypes_NeverVerify()
    {
        JsonNode jwks = JsonNode.Parse(_key.ToJwks())!;
        jwks["keys"]![0]!["use"] = "enc";
        jwks["keys"]!.AsArray().Add(new JsonObject { ["kty"] = "oct", ["k"] = "c2VjcmV0", ["kid"] = "hmac" });
        Assert.Throws<AttestationTokenException>(() => TokenKeySet.Parse(Encoding.UTF8.GetBytes(jwks.ToJsonString())));
    }
}
