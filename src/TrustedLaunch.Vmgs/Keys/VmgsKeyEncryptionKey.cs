using System.Security.Cryptography;
using TrustedLaunch.Storage;
using TrustedLaunch.Vmgs.Format;

namespace TrustedLaunch.Vmgs.Keys;

/// <summary>
/// The host key-encryption key (KEK): AES-256, wraps each VM's data key. Its key file is the same format as
/// the vTPM's sealing key (<see cref="SealingKey"/>: 64 hex characters or 32 raw bytes, mode 0600), so one
/// generator and one set of file rules serve both; a host may use one file for both or keep them apart.
/// </summary>
public sealed class VmgsKeyEncryptionKey : IDisposable
{
    private static ReadOnlySpan<byte> ThumbprintLabel => "TrustedLaunch VMGS KEK thumbprint v1"u8;
    private readonly byte[] _key;

    private VmgsKeyEncryptionKey(byte[] key, string source)
    {
        _key = key;
        Source = source;
        Thumbprint = HMACSHA256.HashData(key, ThumbprintLabel).AsMemory(0, VmgsLayout.KekThumbprintLength);
    }

    /// <summary>Where the key came from (a path, or "memory"); used in error messages, never the key itself.</summary>
    public string Source { get; }

    /// <summary>First 16 bytes of HMAC-SHA256(KEK, label): names the key in the header without revealing it.</summary>
    public ReadOnlyMemory<byte> Thumbprint { get; }

    /// <summary>The thumbprint as lowercase hex.</summary>
    public string ThumbprintHex => Convert.ToHexStringLower(Thumbprint.Span);

    public static VmgsKeyEncryptionKey FromBytes(ReadOnlySpan<byte> key, string source = "memory")
    {
        if (key.Length != VmgsLayout.DataKeyLength)
            throw new ArgumentException($"A KEK is {VmgsLayout.DataKeyLength} bytes, not {key.Length}.", nameof(key));
        return new VmgsKeyEncryptionKey(key.ToArray(), source);
    }

    /// <summary>Loads a key file with <see cref="SealingKey"/>'s rules (existence, mode 0600, length).</summary>
    /// <exception cref="SealingKeyException">Missing, unreadable, too open, or not a 256-bit key.</exception>
    public static VmgsKeyEncryptionKey Load(string path)
    {
        var key = new byte[SealingKey.KeyLength];
        SealingKey.Load(path).CopyTo(key);
        return new VmgsKeyEncryptionKey(key, path);
    }

    /// <summary>Creates a random KEK file (hex, mode 0600, never overwrites) and returns the key.</summary>
    public static VmgsKeyEncryptionKey Generate(string path)
    {
        _ = SealingKey.Generate(path);
        return Load(path);
    }

    internal byte[] Wrap(ReadOnlySpan<byte> dataKey)
    {
        using var aes = Aes.Create();
        aes.Key = _key;
        return aes.EncryptKeyWrapPadded(dataKey); // RFC 5649 §4.1
    }

    /// <summary>Unwraps; null when the RFC 5649 integrity check fails.</summary>
    internal byte[]? TryUnwrap(ReadOnlySpan<byte> wrapped)
    {
        using var aes = Aes.Create();
        aes.Key = _key;
        try
        {
            return aes.DecryptKeyWrapPadded(wrapped); // RFC 5649 §4.2: the alternative IV is checked
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
