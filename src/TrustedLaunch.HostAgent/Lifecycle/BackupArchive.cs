using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrustedLaunch.HostAgent.Lifecycle;

/// <summary>The plaintext, self-describing head of a backup archive (authenticated: every chunk's AAD carries its hash).</summary>
public sealed record BackupHeader
{
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;

    public required Guid BackupId { get; init; }

    public required Guid VmId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public string Cipher { get; init; } = "AES-256-GCM, key HKDF-SHA256(backup key, salt = backupId, info = 'TrustedLaunch backup v1')";

    public required int ChunkSize { get; init; }

    /// <summary>The backup key's check value (first 16 bytes of an HMAC of a label, hex): names the key without revealing it.</summary>
    public required string KeyCheck { get; init; }

    /// <summary>The VMGS header sequence when the backup was taken.</summary>
    public ulong? VmgsSequence { get; init; }

    /// <summary>The files in archive order, with the length and SHA-256 of their plaintext.</summary>
    public required IReadOnlyList<SnapshotFile> Files { get; init; }
}

/// <summary>
/// The backup archive format (docs/lifecycle.md): <c>TLBACKUP</c>, the header length (u32 LE), the header as JSON, then each
/// file as AES-256-GCM chunks of at most <see cref="BackupHeader.ChunkSize"/> bytes — ciphertext length (u32 LE), 12-byte
/// random nonce, ciphertext, 16-byte tag — with AAD = SHA-256(magic ‖ length ‖ header) ‖ file index ‖ chunk index. A changed
/// header, a reordered, swapped, dropped or truncated chunk all fail a tag (the chunk count follows from the authenticated length).
/// </summary>
internal static class BackupArchive
{
    public const int DefaultChunkSize = 1 << 20;
    private static ReadOnlySpan<byte> Magic => "TLBACKUP"u8;
    private static ReadOnlySpan<byte> KdfInfo => "TrustedLaunch backup v1"u8;
    private const int MaxHeader = 1 << 20;

    public static void Write(Stream output, BackupHeader header, ReadOnlySpan<byte> backupKey, IReadOnlyList<Stream> files)
    {
        byte[] head = JsonSerializer.SerializeToUtf8Bytes(header, BackupJson.Default.BackupHeader);
        byte[] prefix = Prefix(head);
        output.Write(prefix);
        output.Write(head);
        byte[] headHash = SHA256.HashData([.. prefix, .. head]);
        using var gcm = new AesGcm(FileKey(backupKey, header.BackupId), 16);
        byte[] plain = new byte[header.ChunkSize];
        byte[] length = new byte[4];
        for (int f = 0; f < files.Count; f++)
        {
            long remaining = header.Files[f].Length;
            long chunk = 0;
            do
            {
                int n = (int)Math.Min(remaining, header.ChunkSize);
                files[f].ReadExactly(plain, 0, n);
                byte[] nonce = RandomNumberGenerator.GetBytes(12);
                byte[] cipher = new byte[n];
                byte[] tag = new byte[16];
                gcm.Encrypt(nonce, plain.AsSpan(0, n), cipher, tag, Aad(headHash, f, chunk));
                BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)n);
                output.Write(length);
                output.Write(nonce);
                output.Write(cipher);
                output.Write(tag);
                remaining -= n;
                chunk++;
            }
            while (remaining > 0);
        }
    }

    /// <summary>Reads the plaintext header (nothing is decrypted).</summary>
    /// <exception cref="VmLifecycleException">Not a backup archive, or its header is malformed.</exception>
    public static (BackupHeader Header, byte[] HeadHash) ReadHeader(Stream input, string name)
    {
        Span<byte> prefix = stackalloc byte[12];
        if (input.ReadAtLeast(prefix, 12, throwOnEndOfStream: false) < 12 || !prefix[..8].SequenceEqual(Magic))
            throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{name} is not a TrustedLaunch backup archive (no TLBACKUP magic).");
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (length is 0 or > MaxHeader)
            throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{name}: the header length {length} is not plausible.");
        byte[] head = new byte[length];
        if (input.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length)
            throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{name} is truncated inside its header.");
        try
        {
            BackupHeader header = JsonSerializer.Deserialize(head, BackupJson.Default.BackupHeader)
                ?? throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{name}: the header is empty.");
            if (header.Format != BackupHeader.CurrentFormat || header.ChunkSize is <= 0 or > 64 << 20 || header.Files.Any(f => f.Length < 0))
                throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{name}: format {header.Format} with chunk size {header.ChunkSize} is not one this version reads.");
            return (header, SHA256.HashData([.. prefix, .. head]));
        }
        catch (JsonException e)
        {
            throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{name}: the header is not JSON ({e.Message}).", e);
        }
    }

    /// <summary>Decrypts file <paramref name="index"/> (the next in the stream) into <paramref name="output"/>; returns its SHA-256.</summary>
    public static byte[] ReadFile(Stream input, BackupHeader header, byte[] headHash, ReadOnlySpan<byte> backupKey, int index, Stream output, string name)
    {
        using var gcm = new AesGcm(FileKey(backupKey, header.BackupId), 16);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long remaining = header.Files[index].Length;
        long chunk = 0;
        byte[] prefix = new byte[16];
        do
        {
            int expected = (int)Math.Min(remaining, header.ChunkSize);
            if (input.ReadAtLeast(prefix, 16, throwOnEndOfStream: false) < 16)
                throw Truncated(name, header, index, chunk);
            if (BinaryPrimitives.ReadUInt32LittleEndian(prefix) != (uint)expected)
                throw new VmLifecycleException(VmLifecycleException.IntegrityFailed, $"{name}: chunk {chunk} of {header.Files[index].Name} has the wrong length.");
            byte[] cipher = new byte[expected + 16];
            if (input.ReadAtLeast(cipher, cipher.Length, throwOnEndOfStream: false) < cipher.Length)
                throw Truncated(name, header, index, chunk);
            byte[] plain = new byte[expected];
            try
            {
                gcm.Decrypt(prefix.AsSpan(4, 12), cipher.AsSpan(0, expected), cipher.AsSpan(expected), plain, Aad(headHash, index, chunk));
            }
            catch (AuthenticationTagMismatchException e)
            {
                throw new VmLifecycleException(VmLifecycleException.IntegrityFailed,
                    $"{name}: chunk {chunk} of {header.Files[index].Name} fails authentication (changed, moved, or the header was edited).", e);
            }

            hash.AppendData(plain);
            output.Write(plain);
            remaining -= expected;
            chunk++;
        }
        while (remaining > 0);
        return hash.GetHashAndReset();
    }

    private static VmLifecycleException Truncated(string name, BackupHeader header, int index, long chunk) =>
        new(VmLifecycleException.IntegrityFailed, $"{name} is truncated at chunk {chunk} of {header.Files[index].Name}.");

    private static byte[] Prefix(byte[] head)
    {
        byte[] prefix = new byte[12];
        Magic.CopyTo(prefix);
        BinaryPrimitives.WriteUInt32LittleEndian(prefix.AsSpan(8), (uint)head.Length);
        return prefix;
    }

    private static byte[] FileKey(ReadOnlySpan<byte> backupKey, Guid backupId) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, backupKey.ToArray(), 32, backupId.ToByteArray(), KdfInfo.ToArray());

    private static byte[] Aad(byte[] headHash, int file, long chunk)
    {
        byte[] aad = new byte[32 + 4 + 8];
        headHash.CopyTo(aad, 0);
        BinaryPrimitives.WriteInt32LittleEndian(aad.AsSpan(32), file);
        BinaryPrimitives.WriteInt64LittleEndian(aad.AsSpan(36), chunk);
        return aad;
    }

}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(BackupHeader))]
internal sealed partial class BackupJson : JsonSerializerContext;
