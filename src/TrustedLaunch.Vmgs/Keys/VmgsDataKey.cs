using System.Security.Cryptography;
using TrustedLaunch.Vmgs.Format;

namespace TrustedLaunch.Vmgs.Keys;

/// <summary>
/// A VM's data key, held only as the two subkeys derived from it (HKDF-SHA256, RFC 5869, salted with the file
/// id): one for AES-256-GCM entry encryption, one for the header MAC. The raw data key is zeroed as soon as
/// the subkeys exist; the subkeys are zeroed on <see cref="Dispose"/>.
/// </summary>
internal sealed class VmgsDataKey : IDisposable
{
    private static ReadOnlySpan<byte> EntryInfo => "TLVMGS v1 entry encryption"u8;
    private static ReadOnlySpan<byte> MacInfo => "TLVMGS v1 header mac"u8;

    private readonly byte[] _macKey;
    private readonly AesGcm _gcm;

    private VmgsDataKey(byte[] dataKey, Guid fileId)
    {
        byte[] salt = fileId.ToByteArray();
        byte[] entryKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, dataKey, 32, salt, EntryInfo.ToArray());
        _macKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, dataKey, 32, salt, MacInfo.ToArray());
        _gcm = new AesGcm(entryKey, VmgsLayout.TagLength);
        CryptographicOperations.ZeroMemory(entryKey);
        CryptographicOperations.ZeroMemory(dataKey);
    }

    /// <summary>A fresh random data key for a new file; returns it wrapped for the header.</summary>
    public static VmgsDataKey Generate(Guid fileId, VmgsKeyEncryptionKey kek, out byte[] wrapped)
    {
        byte[] dataKey = RandomNumberGenerator.GetBytes(VmgsLayout.DataKeyLength);
        wrapped = kek.Wrap(dataKey);
        return new VmgsDataKey(dataKey, fileId);
    }

    /// <summary>Unwraps the header's data key and checks the header MAC.</summary>
    /// <exception cref="VmgsIntegrityException">Wrong KEK, a tampered wrapped key, or a tampered header.</exception>
    public static VmgsDataKey Unlock(VmgsHeader header, VmgsKeyEncryptionKey kek)
    {
        if (!header.KekThumbprint.Span.SequenceEqual(kek.Thumbprint.Span))
        {
            throw new VmgsIntegrityException(
                $"Wrong key: the VMGS data key was wrapped by the KEK with thumbprint {Convert.ToHexStringLower(header.KekThumbprint.Span)}, " +
                $"but the key from {kek.Source} has thumbprint {kek.ThumbprintHex}.");
        }

        byte[] dataKey = kek.TryUnwrap(header.WrappedDataKey.Span) ??
            throw new VmgsIntegrityException($"The wrapped data key does not unwrap with the key from {kek.Source} (thumbprint {kek.ThumbprintHex}): the header was tampered with.");
        if (dataKey.Length != VmgsLayout.DataKeyLength)
        {
            CryptographicOperations.ZeroMemory(dataKey);
            throw new VmgsIntegrityException($"The unwrapped data key is {dataKey.Length} bytes, not {VmgsLayout.DataKeyLength}.");
        }

        var key = new VmgsDataKey(dataKey, header.FileId);
        if (!CryptographicOperations.FixedTimeEquals(key.ComputeMac(header), header.HeaderMac.Span))
        {
            key.Dispose();
            throw new VmgsIntegrityException($"The header MAC does not verify (sequence {header.Sequence}): the file table was altered by something that does not hold the data key.");
        }

        return key;
    }

    public byte[] ComputeMac(VmgsHeader header) => HMACSHA256.HashData(_macKey, VmgsHeaderCodec.MacInput(header));

    public VmgsHeader Seal(VmgsHeader header) => header with { HeaderMac = ComputeMac(header) };

    /// <summary>Encrypts into <paramref name="ciphertext"/> with a fresh random nonce (96 bits, NIST SP 800-38D §8.2.2).</summary>
    public void Encrypt(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, out byte[] nonce, out byte[] tag)
    {
        nonce = RandomNumberGenerator.GetBytes(VmgsLayout.NonceLength);
        tag = new byte[VmgsLayout.TagLength];
        _gcm.Encrypt(nonce, plaintext, ciphertext, tag, aad);
    }

    /// <summary>False when the tag does not verify.</summary>
    public bool TryDecrypt(ReadOnlySpan<byte> aad, VmgsEntry entry, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        try
        {
            _gcm.Decrypt(entry.Nonce.Span, ciphertext, entry.Tag.Span, plaintext, aad);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_macKey);
        _gcm.Dispose();
    }
}
