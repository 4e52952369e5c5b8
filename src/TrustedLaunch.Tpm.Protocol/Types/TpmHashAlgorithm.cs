using System.Security.Cryptography;

namespace TrustedLaunch.Tpm.Protocol;

/// <summary>The digest algorithms a PCR bank or event log can use, with their sizes and BCL hash names.</summary>
public static class TpmHashAlgorithm
{
    /// <summary>Digest size in bytes, or 0 when <paramref name="alg"/> is not a hash this product supports.</summary>
    public static int DigestSize(TpmAlgId alg) => alg switch
    {
        TpmAlgId.Sha1 => 20,
        TpmAlgId.Sha256 => 32,
        TpmAlgId.Sha384 => 48,
        TpmAlgId.Sha512 => 64,
        TpmAlgId.Sm3_256 => 32,
        TpmAlgId.Sha3_256 => 32,
        TpmAlgId.Sha3_384 => 48,
        TpmAlgId.Sha3_512 => 64,
        _ => 0,
    };

    /// <summary>True when the BCL can compute <paramref name="alg"/> on this machine.</summary>
    public static bool IsComputable(TpmAlgId alg) => alg switch
    {
        TpmAlgId.Sha1 or TpmAlgId.Sha256 or TpmAlgId.Sha384 or TpmAlgId.Sha512 => true,
        TpmAlgId.Sha3_256 => SHA3_256.IsSupported,
        TpmAlgId.Sha3_384 => SHA3_384.IsSupported,
        TpmAlgId.Sha3_512 => SHA3_512.IsSupported,
        _ => false,
    };

    /// <summary>The BCL name for <paramref name="alg"/>; throws for algorithms the BCL cannot compute.</summary>
    public static HashAlgorithmName ToHashAlgorithmName(TpmAlgId alg) => alg switch
    {
        TpmAlgId.Sha1 => HashAlgorithmName.SHA1,
        TpmAlgId.Sha256 => HashAlgorithmName.SHA256,
        TpmAlgId.Sha384 => HashAlgorithmName.SHA384,
        TpmAlgId.Sha512 => HashAlgorithmName.SHA512,
        TpmAlgId.Sha3_256 => HashAlgorithmName.SHA3_256,
        TpmAlgId.Sha3_384 => HashAlgorithmName.SHA3_384,
        TpmAlgId.Sha3_512 => HashAlgorithmName.SHA3_512,
        _ => throw new NotSupportedException($"TPM algorithm 0x{(ushort)alg:X4} is not a supported hash."),
    };

    /// <summary>Hashes <paramref name="data"/> with the BCL into <paramref name="destination"/>; returns the bytes written.</summary>
    /// <remarks>Hot paths (replays, verifiers) take an <see cref="ITpmDigest"/> instead, so a host can hand them a faster one.</remarks>
    public static int Hash(TpmAlgId alg, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        int size = DigestSize(alg);
        if (size > 0 && destination.Length < size)
            throw new ArgumentException($"destination holds {destination.Length} bytes; the digest needs {size}", nameof(destination));
        return HashWithBcl(alg, data, destination);
    }

    private static int HashWithBcl(TpmAlgId alg, ReadOnlySpan<byte> data, Span<byte> destination) => alg switch
    {
        TpmAlgId.Sha1 => SHA1.HashData(data, destination),
        TpmAlgId.Sha256 => SHA256.HashData(data, destination),
        TpmAlgId.Sha384 => SHA384.HashData(data, destination),
        TpmAlgId.Sha512 => SHA512.HashData(data, destination),
        TpmAlgId.Sha3_256 => SHA3_256.HashData(data, destination),
        TpmAlgId.Sha3_384 => SHA3_384.HashData(data, destination),
        TpmAlgId.Sha3_512 => SHA3_512.HashData(data, destination),
        _ => throw new NotSupportedException($"TPM algorithm 0x{(ushort)alg:X4} is not a supported hash."),
    };

    /// <summary>The bank name used by Linux sysfs and tpm2-tools (<c>sha256</c>), or null.</summary>
    public static string? BankName(TpmAlgId alg) => alg switch
    {
        TpmAlgId.Sha1 => "sha1",
        TpmAlgId.Sha256 => "sha256",
        TpmAlgId.Sha384 => "sha384",
        TpmAlgId.Sha512 => "sha512",
        TpmAlgId.Sm3_256 => "sm3_256",
        TpmAlgId.Sha3_256 => "sha3_256",
        TpmAlgId.Sha3_384 => "sha3_384",
        TpmAlgId.Sha3_512 => "sha3_512",
        _ => null,
    };

    /// <summary>Parses a bank name (<c>sha256</c>, case-insensitive) to its algorithm.</summary>
    public static bool TryParseBankName(string name, out TpmAlgId alg)
    {
        alg = name.ToUpperInvariant() switch
        {
            "SHA1" => TpmAlgId.Sha1,
            "SHA256" => TpmAlgId.Sha256,
            "SHA384" => TpmAlgId.Sha384,
            "SHA512" => TpmAlgId.Sha512,
            "SM3_256" => TpmAlgId.Sm3_256,
            "SHA3_256" => TpmAlgId.Sha3_256,
            "SHA3_384" => TpmAlgId.Sha3_384,
            "SHA3_512" => TpmAlgId.Sha3_512,
            _ => TpmAlgId.Error,
        };
        return alg != TpmAlgId.Error;
    }
}
