using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Storage;

/// <summary>
/// A 256-bit AES key kept in a file: 64 hexadecimal characters (what <see cref="Generate"/> writes, with a
/// trailing newline) or exactly 32 raw bytes, like swtpm's <c>--key file=…,format=hex|binary</c>. The file must
/// not be readable by group or others.
/// </summary>
public sealed class SealingKey
{
    public const int KeyLength = 32;
    private static ReadOnlySpan<byte> KeyCheckLabel => "TrustedLaunch sealing key check v1"u8;

    private SealingKey(byte[] key)
    {
        Key = key;
        KeyCheckValue = HMACSHA256.HashData(key, KeyCheckLabel)[..16];
    }

    internal byte[] Key { get; }

    /// <summary>
    /// Copies the key out, for a consumer that keys its own cipher from the same kind of file (the VMGS KEK), so the
    /// file rules and parsing stay here. The caller zeroes its copy.
    /// </summary>
    public void CopyTo(Span<byte> destination) => Key.CopyTo(destination);

    /// <summary>First 16 bytes of HMAC-SHA256(key, label): identifies the key without revealing it.</summary>
    public byte[] KeyCheckValue { get; }

    public static SealingKey FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyLength)
            throw new ArgumentException($"An AES-256 key is {KeyLength} bytes, not {key.Length}.", nameof(key));
        return new SealingKey(key.ToArray());
    }

    /// <summary>Reads a key file; refuses files that group or others may read.</summary>
    /// <exception cref="SealingKeyException">Missing, unreadable, too open, or not a 256-bit key.</exception>
    public static SealingKey Load(string path)
    {
        byte[] content;
        try
        {
            content = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SealingKeyException($"key file {path} does not exist", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SealingKeyException($"key file {path} cannot be read: {e.Message}", e);
        }

        if (!OperatingSystem.IsWindows())
        {
            UnixFileMode mode = File.GetUnixFileMode(path);
            const UnixFileMode open = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                                      UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            if ((mode & open) != 0)
                throw new SealingKeyException($"key file {path} is accessible by group or others (mode {ModeString(mode)}); run chmod 600 {path}");
        }

        try
        {
            return FromFileContent(content);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
        }
    }

    /// <summary>Creates a random key and writes it as hex to <paramref name="path"/> with mode 0600; never overwrites.</summary>
    public static SealingKey Generate(string path)
    {
        byte[] key = RandomNumberGenerator.GetBytes(KeyLength);
        try
        {
            OwnerOnlyFile.WriteNew(path, Encoding.ASCII.GetBytes(Convert.ToHexStringLower(key) + "\n"));
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new SealingKeyException($"key file {path} already exists; refusing to overwrite a key", e);
        }

        return new SealingKey(key);
    }

    private static SealingKey FromFileContent(byte[] content)
    {
        if (content.Length == KeyLength)
            return new SealingKey(content.ToArray());
        string text = Encoding.ASCII.GetString(content).Trim();
        if (text.Length == KeyLength * 2 && text.All(Uri.IsHexDigit))
            return new SealingKey(Convert.FromHexString(text));
        throw new SealingKeyException($"key file holds {content.Length} bytes; expected {KeyLength} raw bytes or {KeyLength * 2} hex characters");
    }

    private static string ModeString(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0').ToString(CultureInfo.InvariantCulture);
}

/// <summary>A key file is missing, unreadable, too widely readable, or malformed.</summary>
public sealed class SealingKeyException : Exception
{
    public SealingKeyException() { }

    public SealingKeyException(string message) : base(message) { }

    public SealingKeyException(string message, Exception innerException) : base(message, innerException) { }
}
