using System.Buffers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace TrustedLaunch.Attestation;

/// <summary>JWS algorithms the issuer signs with (RFC 7518 §3.1).</summary>
public enum TokenAlgorithm
{
    /// <summary>ECDSA P-256 with SHA-256 (default).</summary>
    ES256,

    /// <summary>RSASSA-PKCS1-v1_5 with SHA-256, RSA-3072.</summary>
    RS256,
}

/// <summary>
/// The attestation service's token signing key with a certificate for it (self-signed, or issued by a platform CA),
/// its key id (RFC 7638 JWK thumbprint) and its JWKS (RFC 7517, with <c>x5c</c>).
/// </summary>
public sealed class TokenSigningKey : IDisposable
{
    private readonly ECDsa? _ecdsa;
    private readonly RSA? _rsa;

    private TokenSigningKey(TokenAlgorithm algorithm, ECDsa? ecdsa, RSA? rsa, X509Certificate2 certificate)
    {
        Algorithm = algorithm;
        _ecdsa = ecdsa;
        _rsa = rsa;
        Certificate = certificate;
        KeyId = ComputeKeyId();
    }

    /// <summary>The JWS algorithm.</summary>
    public TokenAlgorithm Algorithm { get; }

    /// <summary>The certificate published in <c>x5c</c>.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>RFC 7638 SHA-256 thumbprint of the public JWK, base64url.</summary>
    public string KeyId { get; }

    /// <summary>A fresh key with a self-signed certificate valid for two years.</summary>
    public static TokenSigningKey Create(TokenAlgorithm algorithm = TokenAlgorithm.ES256, string subject = "CN=TrustedLaunch Attestation Token Signing", TimeProvider? time = null)
    {
        DateTimeOffset now = (time ?? TimeProvider.System).GetUtcNow();
        switch (algorithm)
        {
            case TokenAlgorithm.ES256:
            {
                ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
                AddSigningExtensions(request);
                using X509Certificate2 withKey = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(2));
                return new TokenSigningKey(algorithm, key, null, X509CertificateLoader.LoadCertificate(withKey.RawData));
            }

            case TokenAlgorithm.RS256:
            {
                RSA key = RSA.Create(3072);
                var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                AddSigningExtensions(request);
                using X509Certificate2 withKey = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(2));
                return new TokenSigningKey(algorithm, null, key, X509CertificateLoader.LoadCertificate(withKey.RawData));
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unsupported token algorithm");
        }
    }

    /// <summary>Loads a key saved by <see cref="ExportPem"/> (a PKCS#8 private key and a certificate, PEM).</summary>
    /// <exception cref="FormatException">The PEM lacks a key or certificate, they do not match, or the key type is unsupported.</exception>
    public static TokenSigningKey FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new FormatException($"token key PEM holds no certificate: {e.Message}", e);
        }

        using (certificate)
        {
            var bare = X509CertificateLoader.LoadCertificate(certificate.RawData);
            if (bare.GetECDsaPublicKey() is { } ecPublic)
            {
                using (ecPublic)
                {
                    var key = ECDsa.Create();
                    Import(key, pem);
                    if (!key.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(ecPublic.ExportSubjectPublicKeyInfo()) || key.KeySize != 256)
                        throw new FormatException("the token key is not the P-256 key of its certificate");
                    return new TokenSigningKey(TokenAlgorithm.ES256, key, null, bare);
                }
            }

            if (bare.GetRSAPublicKey() is { } rsaPublic)
            {
                using (rsaPublic)
                {
                    var key = RSA.Create();
                    Import(key, pem);
                    if (!key.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(rsaPublic.ExportSubjectPublicKeyInfo()))
                        throw new FormatException("the token key is not the RSA key of its certificate");
                    return new TokenSigningKey(TokenAlgorithm.RS256, null, key, bare);
                }
            }

            throw new FormatException("the token certificate holds neither an ECDSA nor an RSA key");
        }
    }

    /// <summary>The private key (PKCS#8) followed by the certificate, PEM. Store it owner-readable only.</summary>
    public string ExportPem()
    {
        string key = _ecdsa is not null ? _ecdsa.ExportPkcs8PrivateKeyPem() : _rsa!.ExportPkcs8PrivateKeyPem();
        return key + "\n" + Certificate.ExportCertificatePem() + "\n";
    }

    /// <summary>The JWS signature over <paramref name="signingInput"/> (RFC 7518 §3.4: ES256 is R‖S, 64 bytes).</summary>
    public byte[] Sign(ReadOnlySpan<byte> signingInput) => _ecdsa is not null
        ? _ecdsa.SignData(signingInput, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
        : _rsa!.SignData(signingInput.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>Verifies a signature made by <see cref="Sign"/>.</summary>
    public bool Verify(ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature) => _ecdsa is not null
        ? _ecdsa.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
        : _rsa!.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>The JWKS document (<c>{"keys":[…]}</c>) publishing this key, UTF-8.</summary>
    public byte[] ToJwks()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("keys");
            WriteJwk(writer, includeMetadata: true);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _ecdsa?.Dispose();
        _rsa?.Dispose();
        Certificate.Dispose();
    }

    /// <summary>RFC 7638 §3.2: the required members only, lexicographic order, no whitespace.</summary>
    private string ComputeKeyId()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            WriteJwk(writer, includeMetadata: false);
        return Base64Url.Encode(SHA256.HashData(buffer.WrittenSpan));
    }

    private void WriteJwk(Utf8JsonWriter writer, bool includeMetadata)
    {
        writer.WriteStartObject();
        if (_ecdsa is not null)
        {
            ECParameters p = _ecdsa.ExportParameters(false);
            writer.WriteString("crv", "P-256");
            writer.WriteString("kty", "EC");
            writer.WriteString("x", Base64Url.Encode(p.Q.X!));
            writer.WriteString("y", Base64Url.Encode(p.Q.Y!));
        }
        else
        {
            RSAParameters p = _rsa!.ExportParameters(false);
            writer.WriteString("e", Base64Url.Encode(p.Exponent!));
            writer.WriteString("kty", "RSA");
            writer.WriteString("n", Base64Url.Encode(p.Modulus!));
        }

        if (includeMetadata)
        {
            writer.WriteString("kid", KeyId);
            writer.WriteString("use", "sig");
            writer.WriteString("alg", Algorithm.ToString());
            writer.WriteStartArray("x5c");
            writer.WriteStringValue(Convert.ToBase64String(Certificate.RawData));
            writer.WriteEndArray();
            writer.WriteString("x5t#S256", Base64Url.Encode(SHA256.HashData(Certificate.RawData)));
        }

        writer.WriteEndObject();
    }

    private static void AddSigningExtensions(CertificateRequest request)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
    }

    private static void Import(AsymmetricAlgorithm key, string pem)
    {
        try
        {
            key.ImportFromPem(pem);
        }
        catch (ArgumentException e)
        {
            key.Dispose();
            throw new FormatException($"token key PEM holds no usable private key: {e.Message}", e);
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new FormatException($"token key PEM holds no usable private key: {e.Message}", e);
        }
    }
}

/// <summary>base64url without padding (RFC 4648 §5, RFC 7515 §2).</summary>
internal static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> data) => System.Buffers.Text.Base64Url.EncodeToString(data);
}
