using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Crypto;

/// <summary>
/// SHA-1/SHA-2 straight to OpenSSL's digest functions (<see cref="OpenSslDigest"/>), everything else and any machine
/// without libcrypto.so.3 through the BCL. What the verifier, the replay tools and the quote check hash with: one
/// PCR extend costs 61-318 ns here against 470-780 ns through the BCL's per-call EVP set-up (docs/benchmarks.md).
/// </summary>
public sealed class OpenSslTpmDigest : ITpmDigest
{
    private OpenSslTpmDigest()
    {
    }

    /// <summary>The one instance: the function pointers are process-wide, loaded once.</summary>
    public static OpenSslTpmDigest Instance { get; } = new();

    /// <summary>True when SHA-1/SHA-2 go to OpenSSL directly (libcrypto.so.3 loaded and its known answers checked).</summary>
    public static bool IsDirect => OpenSslDigest.IsAvailable;

    /// <inheritdoc />
    public int Hash(TpmAlgId algorithm, ReadOnlySpan<byte> data, Span<byte> destination) =>
        OpenSslDigest.TryHash(algorithm, data, destination, out int written) ? written : TpmHashAlgorithm.Hash(algorithm, data, destination);
}
