using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation;

/// <summary>
/// Hashes with <paramref name="inner"/>, remembering the digests of inputs of 256 bytes or more by their bytes: the
/// signature databases and authorities every log of a fleet repeats. PCR extends (40-128 bytes) are hashed directly,
/// since comparing them would cost as much as hashing them.
/// </summary>
internal sealed class CachingTpmDigest(ITpmDigest inner, ContentCache<byte[]> remembered) : ITpmDigest
{
    private const int RememberedDataBytes = 256;

    public int Hash(TpmAlgId algorithm, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (data.Length < RememberedDataBytes)
            return inner.Hash(algorithm, data, destination);
        if (!remembered.TryGet((int)algorithm, data, out byte[]? digest))
        {
            digest = new byte[TpmHashAlgorithm.DigestSize(algorithm)];
            inner.Hash(algorithm, data, digest);
            remembered.Add((int)algorithm, data, digest);
        }

        byte[] known = digest!;
        known.CopyTo(destination);
        return known.Length;
    }
}
