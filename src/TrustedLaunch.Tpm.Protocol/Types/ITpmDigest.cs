namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// Computes the digests of a TPM hash algorithm. Format code that hashes (PCR extends in a replay, event data checked
/// against its digest, a quote's PCR digest) takes one, so the host decides how: <see cref="BclTpmDigest"/> by default,
/// OpenSSL's digest functions called directly where measured to matter (TrustedLaunch.Tpm.Crypto), or a caching one.
/// </summary>
public interface ITpmDigest
{
    /// <summary>Hashes <paramref name="data"/> into <paramref name="destination"/>; returns the bytes written.</summary>
    /// <exception cref="NotSupportedException"><paramref name="algorithm"/> is not a hash this machine can compute.</exception>
    int Hash(TpmAlgId algorithm, ReadOnlySpan<byte> data, Span<byte> destination);
}

/// <summary>The BCL's one-shot hash functions (<see cref="TpmHashAlgorithm.Hash"/>).</summary>
public sealed class BclTpmDigest : ITpmDigest
{
    private BclTpmDigest()
    {
    }

    /// <summary>The one instance; it holds no state.</summary>
    public static BclTpmDigest Instance { get; } = new();

    /// <inheritdoc />
    public int Hash(TpmAlgId algorithm, ReadOnlySpan<byte> data, Span<byte> destination) => TpmHashAlgorithm.Hash(algorithm, data, destination);
}
