using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TrustedLaunch.Storage;

/// <summary>
/// Encrypts a blob with AES-256-GCM before it reaches an inner store, and authenticates it on the way back.
/// Layout (all integers big-endian), 48-byte header, the whole header is the GCM associated data together with
/// the store's purpose label, so a blob sealed for one purpose (vTPM state) cannot be replayed as another:
/// <code>
///  0  "TLSEALED"            8  magic
///  8  u16 version = 1       10 u16 header length = 48      12 u32 flags = 0
/// 16  key check value[16]   first 16 bytes of HMAC-SHA256(key, "TrustedLaunch sealing key check v1")
/// 32  nonce[12]             44 u32 plaintext length
/// 48  ciphertext[length]    then tag[16]
/// </code>
/// The key check value lets a wrong key be told apart from a tampered blob; it reveals nothing about the key.
/// </summary>
public sealed class SealedNonVolatileStore : INonVolatileStore
{
    public const int HeaderLength = 48;
    public const int TagLength = 16;
    public const ushort FormatVersion = 1;
    private const int NonceLength = 12;
    private const int KeyCheckLength = 16;
    private static ReadOnlySpan<byte> Magic => "TLSEALED"u8;

    private readonly INonVolatileStore _inner;
    private readonly SealingKey _key;
    private readonly byte[] _purpose;

    /// <param name="inner">Where the sealed bytes live.</param>
    /// <param name="key">The AES-256 key.</param>
    /// <param name="purpose">A label bound into the authentication (e.g. "vtpm-state"); must match on restore.</param>
    public SealedNonVolatileStore(INonVolatileStore inner, SealingKey key, string purpose)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        _inner = inner;
        _key = key;
        _purpose = Encoding.UTF8.GetBytes(purpose);
    }

    public void Persist(ReadOnlySpan<byte> data) => _inner.Persist(Seal(data));

    public byte[]? Restore()
    {
        byte[]? sealedBlob = _inner.Restore();
        return sealedBlob is null ? null : Unseal(sealedBlob);
    }

    /// <summary>Encrypts <paramref name="plaintext"/> into the sealed layout.</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext)
    {
        var output = new byte[HeaderLength + plaintext.Length + TagLength];
        Span<byte> header = output.AsSpan(0, HeaderLength);
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header[8..], FormatVersion);
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], HeaderLength);
        BinaryPrimitives.WriteUInt32BigEndian(header[12..], 0);
        _key.KeyCheckValue.CopyTo(header[16..]);
        RandomNumberGenerator.Fill(header.Slice(32, NonceLength)); // 96-bit random nonce, fresh per seal
        BinaryPrimitives.WriteUInt32BigEndian(header[44..], (uint)plaintext.Length);

        using var gcm = new AesGcm(_key.Key, TagLength);
        gcm.Encrypt(header.Slice(32, NonceLength), plaintext, output.AsSpan(HeaderLength, plaintext.Length),
            output.AsSpan(HeaderLength + plaintext.Length, TagLength), AssociatedData(header));
        return output;
    }

    /// <summary>Authenticates and decrypts a sealed blob.</summary>
    /// <exception cref="SealedBlobException">Says which of truncated / not sealed / version / wrong key / tampered.</exception>
    public byte[] Unseal(ReadOnlySpan<byte> sealedBlob)
    {
        if (sealedBlob.Length < Magic.Length || !sealedBlob[..Magic.Length].SequenceEqual(Magic))
        {
            if (sealedBlob.Length < Magic.Length && Magic.StartsWith(sealedBlob))
                throw new SealedBlobException(SealedBlobFailure.Truncated, $"the file is truncated ({sealedBlob.Length} bytes, shorter than its {HeaderLength}-byte header)");
            throw new SealedBlobException(SealedBlobFailure.NotSealed, "the file is not a TrustedLaunch sealed blob (no TLSEALED magic)");
        }

        if (sealedBlob.Length < HeaderLength)
            throw new SealedBlobException(SealedBlobFailure.Truncated, $"the file is truncated ({sealedBlob.Length} bytes, shorter than its {HeaderLength}-byte header)");
        ReadOnlySpan<byte> header = sealedBlob[..HeaderLength];
        ushort version = BinaryPrimitives.ReadUInt16BigEndian(header[8..]);
        ushort headerLength = BinaryPrimitives.ReadUInt16BigEndian(header[10..]);
        if (version != FormatVersion || headerLength != HeaderLength)
            throw new SealedBlobException(SealedBlobFailure.UnsupportedVersion, $"sealed-blob format version {version} (header {headerLength} bytes) is not supported; this build reads version {FormatVersion}");
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[44..]);
        long expected = (long)HeaderLength + length + TagLength;
        if (sealedBlob.Length < expected)
            throw new SealedBlobException(SealedBlobFailure.Truncated, $"the file is truncated ({sealedBlob.Length} of {expected} bytes)");
        if (!CryptographicOperations.FixedTimeEquals(header.Slice(16, KeyCheckLength), _key.KeyCheckValue))
            throw new SealedBlobException(SealedBlobFailure.WrongKey, "the key does not match the key this state was sealed with (key check value differs)");
        if (sealedBlob.Length > expected)
            throw new SealedBlobException(SealedBlobFailure.Tampered, $"the file was tampered with ({sealedBlob.Length - expected} unexpected trailing bytes)");

        var plaintext = new byte[length];
        using var gcm = new AesGcm(_key.Key, TagLength);
        try
        {
            gcm.Decrypt(header.Slice(32, NonceLength), sealedBlob.Slice(HeaderLength, (int)length),
                sealedBlob.Slice(HeaderLength + (int)length, TagLength), plaintext, AssociatedData(header));
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new SealedBlobException(SealedBlobFailure.Tampered, "the file was tampered with (AES-GCM authentication failed)", e);
        }

        return plaintext;
    }

    private byte[] AssociatedData(ReadOnlySpan<byte> header)
    {
        var aad = new byte[HeaderLength + _purpose.Length];
        header.CopyTo(aad);
        _purpose.CopyTo(aad.AsSpan(HeaderLength));
        return aad;
    }
}

/// <summary>Why a sealed blob could not be opened.</summary>
public enum SealedBlobFailure
{
    Truncated,
    NotSealed,
    UnsupportedVersion,
    WrongKey,
    Tampered,
}

/// <summary>A sealed blob exists but cannot be opened; <see cref="Failure"/> says why.</summary>
public sealed class SealedBlobException : NonVolatileStoreException
{
    public SealedBlobException() : this(SealedBlobFailure.Tampered, "the sealed blob cannot be opened") { }

    public SealedBlobException(string message) : this(SealedBlobFailure.Tampered, message) { }

    public SealedBlobException(string message, Exception innerException) : this(SealedBlobFailure.Tampered, message, innerException) { }

    public SealedBlobException(SealedBlobFailure failure, string message, Exception? innerException = null)
        : base(message, innerException!) => Failure = failure;

    public SealedBlobFailure Failure { get; }
}
