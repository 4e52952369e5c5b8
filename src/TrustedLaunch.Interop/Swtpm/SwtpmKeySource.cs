using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace TrustedLaunch.Interop.Swtpm;

/// <summary>How swtpm is told its state key: a key (file or fd) or a passphrase (file or fd).</summary>
public enum SwtpmKeyKind
{
    KeyFile,
    KeyFd,
    PassphraseFile,
    PassphraseFd,
}

/// <summary>
/// The state key as swtpm's <c>--key file=|fd=|pwdfile=|pwdfd=</c> (and swtpm_setup's <c>--keyfile[-fd]</c>,
/// <c>--pwdfile[-fd]</c>) name it. The bytes become the 256-bit key that seals tl-vtpm's state, derived the same way
/// by the setup and the socket, so what libvirt hands both (one libvirt secret) opens one state.
/// </summary>
public sealed record SwtpmKeySource(SwtpmKeyKind Kind, string? Path, int? Fd, string Cipher = "aes-256-cbc", bool Binary = false)
{
    private const int Pbkdf2Iterations = 100_000;
    private static readonly byte[] PassphraseSalt = Encoding.ASCII.GetBytes("tl-vtpm swtpm-compatible passphrase v1");
    private static readonly byte[] KeyInfo = Encoding.ASCII.GetBytes("tl-vtpm swtpm-compatible key v1");

    /// <summary>swtpm's two ciphers; both name only how the secret is given — tl-vtpm always seals with AES-256-GCM.</summary>
    public static readonly IReadOnlyList<string> Ciphers = ["aes-128-cbc", "aes-256-cbc"];

    /// <summary>Parses <c>--key</c>'s value: <c>file=F|fd=N|pwdfile=F|pwdfd=N[,mode=aes-256-cbc][,format=hex|binary][,remove=…][,kdf=…]</c>.</summary>
    public static SwtpmKeySource ParseKeyOption(string option, string value)
    {
        SwtpmOptionFields fields = SwtpmOptionFields.Parse(option, value);
        fields.RequireOnly("file", "fd", "pwdfile", "pwdfd", "mode", "format", "remove", "kdf");
        string cipher = CheckCipher(option, fields.Get("mode") ?? "aes-128-cbc");
        bool binary = fields.Get("format") switch
        {
            null or "hex" => false,
            "binary" => true,
            string other => throw new SwtpmArgumentException($"{option}: format='{other}' is not hex or binary"),
        };
        if (fields.Get("file") is { } file)
            return new SwtpmKeySource(SwtpmKeyKind.KeyFile, file, null, cipher, binary);
        if (fields.GetInt("fd") is { } fd)
            return new SwtpmKeySource(SwtpmKeyKind.KeyFd, null, fd, cipher, binary);
        if (fields.Get("pwdfile") is { } pwdFile)
            return new SwtpmKeySource(SwtpmKeyKind.PassphraseFile, pwdFile, null, cipher);
        if (fields.GetInt("pwdfd") is { } pwdFd)
            return new SwtpmKeySource(SwtpmKeyKind.PassphraseFd, null, pwdFd, cipher);
        throw new SwtpmArgumentException($"{option} needs one of file=, fd=, pwdfile=, pwdfd=");
    }

    internal static string CheckCipher(string option, string cipher) =>
        Ciphers.Contains(cipher, StringComparer.Ordinal)
            ? cipher
            : throw new SwtpmArgumentException($"{option}: cipher '{cipher}' is not one of {string.Join(", ", Ciphers)}");

    /// <summary>Reads the secret (from its file or inherited fd) and derives the 32-byte sealing key.</summary>
    /// <exception cref="SwtpmArgumentException">The secret cannot be read or is not a key of the stated format.</exception>
    public byte[] ReadSealingKey()
    {
        byte[] raw = ReadSecret();
        try
        {
            return DeriveSealingKey(raw);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>The derivation alone (tested): PBKDF2-SHA256 over a passphrase, HKDF-SHA256 over a key.</summary>
    public byte[] DeriveSealingKey(ReadOnlySpan<byte> secret)
    {
        if (Kind is SwtpmKeyKind.PassphraseFile or SwtpmKeyKind.PassphraseFd)
        {
            if (secret.IsEmpty)
                throw new SwtpmArgumentException("the passphrase is empty");
            return Rfc2898DeriveBytes.Pbkdf2(secret, PassphraseSalt, Pbkdf2Iterations, HashAlgorithmName.SHA256, 32);
        }

        byte[] key = Binary ? secret.ToArray() : ParseHexKey(secret);
        int expected = Cipher == "aes-256-cbc" ? 32 : 16;
        if (key.Length != expected)
            throw new SwtpmArgumentException($"the key has {key.Length} bytes; {Cipher} needs {expected}");
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt: [], info: KeyInfo);
    }

    private static byte[] ParseHexKey(ReadOnlySpan<byte> secret)
    {
        string text = Encoding.ASCII.GetString(secret).Trim();
        try
        {
            return Convert.FromHexString(text);
        }
        catch (FormatException e)
        {
            throw new SwtpmArgumentException("the key is not hexadecimal (format=hex)", e);
        }
    }

    private byte[] ReadSecret()
    {
        try
        {
            if (Path is not null)
                return File.ReadAllBytes(Path);
            using var handle = new SafeFileHandle(Fd!.Value, ownsHandle: true);
            using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new SwtpmArgumentException($"cannot read the {(Kind is SwtpmKeyKind.PassphraseFile or SwtpmKeyKind.PassphraseFd ? "passphrase" : "key")} from {Path ?? $"fd {Fd}"}: {e.Message}", e);
        }
    }
}
