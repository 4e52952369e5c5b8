using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TrustedLaunch.Attestation.Evidence;

/// <summary>
/// The envelope of a token bound to a vTPM key: JWE compact serialization (RFC 7516 §7.1) with
/// <c>alg</c> RSA-OAEP-256 (RFC 7518 §4.3: RSAES-OAEP, SHA-256, MGF1-SHA-256, empty label — exactly what TPM2_RSA_Decrypt
/// with an OAEP-SHA-256 key computes) and <c>enc</c> A256GCM (RFC 7518 §5.3), <c>cty</c> JWT (RFC 7519 §5.2: the
/// plaintext is the signed token). The service encrypts; the guest decrypts with its TPM unwrapping the content key.
/// </summary>
public static class BoundTokenJwe
{
    /// <summary>The key-management algorithm.</summary>
    public const string Algorithm = "RSA-OAEP-256";

    /// <summary>The content-encryption algorithm.</summary>
    public const string Encryption = "A256GCM";

    /// <summary>Envelopes longer than this are refused before decoding.</summary>
    public const int MaxChars = 128 * 1024;

    private const int KeyBytes = 32;   // RFC 7518 §5.3: A256GCM uses a 256-bit key
    private const int IvBytes = 12;    // RFC 7518 §5.3: a 96-bit IV
    private const int TagBytes = 16;   // RFC 7518 §5.3: a 128-bit tag

    /// <summary>Encrypts <paramref name="jws"/> to <paramref name="recipient"/>; <paramref name="keyId"/> names the key (<c>kid</c>).</summary>
    public static string Encrypt(string jws, RSA recipient, string keyId)
    {
        ArgumentNullException.ThrowIfNull(jws);
        ArgumentNullException.ThrowIfNull(recipient);
        var header = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(header))
        {
            writer.WriteStartObject();
            writer.WriteString("alg", Algorithm);
            writer.WriteString("enc", Encryption);
            writer.WriteString("cty", "JWT");
            writer.WriteString("kid", keyId);
            writer.WriteEndObject();
        }

        byte[] aad = Encoding.ASCII.GetBytes(Base64Url.EncodeToString(header.WrittenSpan)); // RFC 7516 §5.1 step 14
        byte[] cek = RandomNumberGenerator.GetBytes(KeyBytes);
        byte[] plaintext = Encoding.UTF8.GetBytes(jws);
        try
        {
            byte[] encryptedKey = recipient.Encrypt(cek, RSAEncryptionPadding.OaepSHA256);
            byte[] iv = RandomNumberGenerator.GetBytes(IvBytes);
            byte[] ciphertext = new byte[plaintext.Length];
            byte[] tag = new byte[TagBytes];
            using (var gcm = new AesGcm(cek, TagBytes))
                gcm.Encrypt(iv, plaintext, ciphertext, tag, aad);
            return string.Join('.', Encoding.ASCII.GetString(aad), Base64Url.EncodeToString(encryptedKey), Base64Url.EncodeToString(iv),
                Base64Url.EncodeToString(ciphertext), Base64Url.EncodeToString(tag));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(cek);
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>True when <paramref name="token"/> has the five parts of a JWE compact serialization.</summary>
    public static bool IsJwe(string token) => token is not null && token.Count(c => c == '.') == 4;

    /// <summary>The envelope's <c>kid</c>: base64url of the TPM Name of the key it was encrypted to (the guest picks its key by it).</summary>
    /// <exception cref="BoundTokenException">Not such an envelope, or its header has no <c>kid</c>.</exception>
    public static string KeyId(string jwe)
    {
        ArgumentNullException.ThrowIfNull(jwe);
        if (jwe.Length > MaxChars || !IsJwe(jwe))
            throw new BoundTokenException("not a JWE compact serialization of at most " + MaxChars + " characters");
        byte[] json = Decode(jwe[..jwe.IndexOf('.', StringComparison.Ordinal)], "header");
        CheckHeader(json);
        using JsonDocument header = JsonDocument.Parse(json);
        return Text(header.RootElement, "kid") ?? throw new BoundTokenException("the header has no \"kid\"");
    }

    /// <summary>
    /// Decrypts an envelope, asking <paramref name="unwrapKey"/> (the TPM's RSA-OAEP-256 decryption) for the content key.
    /// Returns the signed token, which the caller must still validate as a relying party would.
    /// </summary>
    /// <exception cref="BoundTokenException">Not such an envelope, or it does not decrypt.</exception>
    public static string Decrypt(string jwe, Func<byte[], byte[]> unwrapKey)
    {
        ArgumentNullException.ThrowIfNull(jwe);
        ArgumentNullException.ThrowIfNull(unwrapKey);
        if (jwe.Length > MaxChars)
            throw new BoundTokenException($"the envelope is {jwe.Length} characters, over the {MaxChars} limit");
        string[] parts = jwe.Split('.');
        if (parts.Length != 5)
            throw new BoundTokenException($"the envelope has {parts.Length} dot-separated parts; a JWE has 5 (RFC 7516 §7.1)");
        CheckHeader(Decode(parts[0], "header"));
        byte[] encryptedKey = Decode(parts[1], "encrypted key");
        byte[] iv = Decode(parts[2], "IV");
        byte[] ciphertext = Decode(parts[3], "ciphertext");
        byte[] tag = Decode(parts[4], "tag");
        if (iv.Length != IvBytes || tag.Length != TagBytes)
            throw new BoundTokenException($"A256GCM needs a {IvBytes}-byte IV and a {TagBytes}-byte tag (RFC 7518 §5.3)");
        byte[] cek = unwrapKey(encryptedKey);
        byte[] plaintext = new byte[ciphertext.Length];
        try
        {
            if (cek.Length != KeyBytes)
                throw new BoundTokenException($"the content key is {cek.Length} bytes; A256GCM needs {KeyBytes}");
            using var gcm = new AesGcm(cek, TagBytes);
            gcm.Decrypt(iv, ciphertext, tag, plaintext, Encoding.ASCII.GetBytes(parts[0]));
            return Encoding.UTF8.GetString(plaintext);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new BoundTokenException("the envelope does not decrypt: its tag does not verify (altered, or another key)", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(cek);
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private static void CheckHeader(byte[] json)
    {
        try
        {
            using JsonDocument header = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4, AllowDuplicateProperties = false });
            JsonElement root = header.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new BoundTokenException("the header is not a JSON object");
            // RFC 7516 §9 / RFC 8725 §3.1: accept the one algorithm pair this envelope uses, never what the header asks for.
            if (Text(root, "alg") != Algorithm || Text(root, "enc") != Encryption)
                throw new BoundTokenException($"the header asks for alg '{Text(root, "alg")}', enc '{Text(root, "enc")}'; only {Algorithm} with {Encryption} is accepted");
            if (root.TryGetProperty("crit", out _) || root.TryGetProperty("zip", out _))
                throw new BoundTokenException("the header has \"crit\" or \"zip\", which this envelope never uses");
        }
        catch (JsonException e)
        {
            throw new BoundTokenException("the header is not JSON: " + e.Message, e);
        }
    }

    private static string? Text(JsonElement obj, string name) => BoundTokenEncoding.Text(obj, name);

    private static byte[] Decode(string part, string what) => BoundTokenEncoding.Decode(part, what);
}

/// <summary>A bound-token envelope that is malformed or does not decrypt.</summary>
public sealed class BoundTokenException : Exception
{
    public BoundTokenException() { }

    public BoundTokenException(string message) : base(message) { }

    public BoundTokenException(string message, Exception innerException) : base(message, innerException) { }
}
