using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Attestation.Tests.Verification;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Attestation.Tests.Tokens;

[Collection(GenuineEvidenceGroup.Name)]
[IntegrationTest]
public sealed class AttestationTokenTests(GenuineEvidenceFactory factory)
{
    private const string Issuer = "https://attest.trustedlaunch.test";
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private AttestationResult PassedResult()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        AttestationResult result = Verifiers.Cached.Verify(
            factory.Attest(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture), nonce), factory.Expect(nonce));
        Assert.True(result.Passed);
        return result;
    }

    /// <summary>Validates with Microsoft.IdentityModel (an independent JWS implementation) against the published JWKS only.</summary>
    private static TokenValidationResult Validate(string token, byte[] jwks, DateTimeOffset at)
    {
        var keys = new JsonWebKeySet(Encoding.UTF8.GetString(jwks));
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidateAudience = false,
            IssuerSigningKeys = keys.GetSigningKeys(),
            LifetimeValidator = (notBefore, expires, _, _) => notBefore <= at.UtcDateTime && at.UtcDateTime < expires,
            ValidAlgorithms = ["ES256", "RS256"],
        };
        return new JsonWebTokenHandler().ValidateTokenAsync(token, parameters).GetAwaiter().GetResult();
    }

    [Theory]
    [InlineData(TokenAlgorithm.ES256)]
    [InlineData(TokenAlgorithm.RS256)]
    public void Issue_PassedResult_VerifiesWithPublishedJwks(TokenAlgorithm algorithm)
    {
        using TokenSigningKey key = TokenSigningKey.Create(algorithm);
        string token = new AttestationTokenIssuer(key, Issuer, new FixedTime(Now)).Issue(PassedResult(), factory.VmId);

        TokenValidationResult validation = Validate(token, key.ToJwks(), Now.AddMinutes(1));
        Assert.True(validation.IsValid, validation.Exception?.Message);
        var jwt = (JsonWebToken)validation.SecurityToken;
        Assert.Equal(algorithm.ToString(), jwt.Alg);
        Assert.Equal(key.KeyId, jwt.Kid);
        Assert.True(jwt.GetClaim(AttestationClaims.SecureBoot).Value == "true");
        Assert.Equal("azurevm", jwt.GetClaim(AttestationClaims.AttestationType).Value);
        Assert.Equal(factory.VmId.ToString("D").ToUpperInvariant(), jwt.GetClaim(AttestationClaims.VmId).Value);
        Assert.Equal(28800, jwt.GetPayloadValue<long>("exp") - jwt.GetPayloadValue<long>("iat"));
        Assert.Equal(Now.ToUnixTimeSeconds(), jwt.GetPayloadValue<long>("iat"));
    }

    [Fact]
    public void Issue_Claims_CarryAzureVocabularyAndOurs()
    {
        using TokenSigningKey key = TokenSigningKey.Create();
        string token = new AttestationTokenIssuer(key, Issuer, new FixedTime(Now)).Issue(PassedResult(), factory.VmId);
        using JsonDocument payload = JsonDocument.Parse(Base64UrlDecode(token.Split('.')[1]));
        JsonElement claims = payload.RootElement;
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14], claims.GetProperty(AttestationClaims.AttestedPcrs).EnumerateArray().Select(e => e.GetInt32()));
        Assert.True(claims.GetProperty(AttestationClaims.DbValidated).GetBoolean());
        Assert.True(claims.GetProperty(AttestationClaims.DbxValidated).GetBoolean());
        Assert.True(claims.GetProperty(AttestationClaims.DefaultSecureBootKeysValidated).GetBoolean());
        Assert.False(claims.GetProperty(AttestationClaims.KernelDebugEnabled).GetBoolean());
        Assert.Equal("debian", claims.GetProperty(AttestationClaims.OsDistro).GetString());
        Assert.Equal("Linux", claims.GetProperty(AttestationClaims.OsType).GetString());
        Assert.Equal(12, claims.GetProperty(AttestationClaims.OsVersionMajor).GetInt32());
        Assert.Equal("none", claims.GetProperty(AttestationClaims.BaselineEarly).GetString());
        JsonElement components = claims.GetProperty(AttestationClaims.BootComponents);
        Assert.Equal("Microsoft Corporation UEFI CA 2011", components[0].GetProperty("inferredAuthority").GetString());
        Assert.Equal("devicePath", components[0].GetProperty("nameSource").GetString());
        Assert.Equal("position", components[2].GetProperty("nameSource").GetString()); // the kernel, loaded from memory
        JsonElement authorities = claims.GetProperty(AttestationClaims.Authorities);
        Assert.Equal(["db: Microsoft Corporation UEFI CA 2011", "MokListRT: Debian Secure Boot CA"],
            authorities.EnumerateArray().Select(a => $"{a.GetProperty("variable").GetString()}: {a.GetProperty("name").GetString()}"));
        Assert.Equal("ttyprintk", claims.GetProperty(AttestationClaims.Findings)[0].GetProperty("module").GetString());
    }

    [Fact]
    public void Issue_TamperedPayloadOrOtherKeyOrExpired_DoesNotValidate()
    {
        using TokenSigningKey key = TokenSigningKey.Create();
        using TokenSigningKey other = TokenSigningKey.Create();
        string token = new AttestationTokenIssuer(key, Issuer, new FixedTime(Now)).Issue(PassedResult(), factory.VmId);
        string[] parts = token.Split('.');
        string payload = Encoding.UTF8.GetString(Base64UrlDecode(parts[1])).Replace("\"secureboot\":true", "\"secureboot\":false", StringComparison.Ordinal);
        string tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";

        Assert.True(Validate(token, key.ToJwks(), Now.AddHours(7)).IsValid);
        Assert.False(Validate(tampered, key.ToJwks(), Now).IsValid);
        Assert.False(Validate(token, other.ToJwks(), Now).IsValid);
        Assert.False(Validate(token, key.ToJwks(), Now.AddHours(8).AddSeconds(1)).IsValid);
    }

    [Fact]
    public void Issue_FailedResult_Throws()
    {
        using TokenSigningKey key = TokenSigningKey.Create();
        var failed = new AttestationResult { Passed = false, Failure = new(AttestationFailureReason.QuoteInvalid, "quote: nonce", "x") };
        Assert.Throws<ArgumentException>(() => new AttestationTokenIssuer(key, Issuer, TimeProvider.System).Issue(failed, factory.VmId));
    }

    [Theory]
    [InlineData(TokenAlgorithm.ES256)]
    [InlineData(TokenAlgorithm.RS256)]
    public void FromPem_RoundTrip_KeepsKidAndSigns(TokenAlgorithm algorithm)
    {
        using TokenSigningKey key = TokenSigningKey.Create(algorithm);
        using TokenSigningKey loaded = TokenSigningKey.FromPem(key.ExportPem());
        Assert.Equal(key.KeyId, loaded.KeyId);
        Assert.Equal(algorithm, loaded.Algorithm);
        byte[] signature = loaded.Sign("data"u8);
        Assert.True(key.Verify("data"u8, signature));
    }

    [Fact]
    public void ToJwks_PublishesKidX5cAndCertificateMatchesKey()
    {
        using TokenSigningKey key = TokenSigningKey.Create();
        using JsonDocument jwks = JsonDocument.Parse(key.ToJwks());
        JsonElement jwk = Assert.Single(jwks.RootElement.GetProperty("keys").EnumerateArray());
        Assert.Equal(key.KeyId, jwk.GetProperty("kid").GetString());
        Assert.Equal("EC", jwk.GetProperty("kty").GetString());
        Assert.Equal("ES256", jwk.GetProperty("alg").GetString());
        byte[] der = Convert.FromBase64String(jwk.GetProperty("x5c")[0].GetString()!);
        Assert.Equal(key.Certificate.RawData, der);
        // RFC 7638 thumbprint as Microsoft.IdentityModel computes it independently.
        var msJwk = new JsonWebKey(jwks.RootElement.GetProperty("keys")[0].GetRawText());
        Assert.Equal(key.KeyId, Base64UrlEncoder.Encode(msJwk.ComputeJwkThumbprint()));
    }

    private static byte[] Base64UrlDecode(string text) => Base64UrlEncoder.DecodeBytes(text);
}
