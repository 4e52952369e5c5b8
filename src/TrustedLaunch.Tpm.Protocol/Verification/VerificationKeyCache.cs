using System.Security.Cryptography;

namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// Imported signature-checking keys, per thread. Turning a TPMT_PUBLIC into an OpenSSL key costs ~100 µs
/// (QuoteVerificationBenchmarks.ImportAkKey), most of a quote check, and a verifier sees the same AKs again and again.
/// Per thread because the BCL does not promise that one RSA/ECDsa instance may be used by several threads at once.
/// </summary>
internal static class VerificationKeyCache
{
    private const int CapacityPerThread = 256;

    [ThreadStatic]
    private static Dictionary<string, AsymmetricAlgorithm>? t_keys;

    /// <summary>The RSA key of <paramref name="key"/>; owned by the cache, never disposed by the caller.</summary>
    public static RSA Rsa(TpmtPublic key) => (RSA)Get(key, static k => k.ToRsa());

    /// <summary>The ECDSA key of <paramref name="key"/>; owned by the cache, never disposed by the caller.</summary>
    public static ECDsa Ecdsa(TpmtPublic key) => (ECDsa)Get(key, static k => k.ToECDsa());

    private static AsymmetricAlgorithm Get(TpmtPublic key, Func<TpmtPublic, AsymmetricAlgorithm> import)
    {
        var keys = t_keys ??= new Dictionary<string, AsymmetricAlgorithm>(StringComparer.Ordinal);
        string identity = Identity(key);
        if (keys.TryGetValue(identity, out AsymmetricAlgorithm? cached))
            return cached;
        if (keys.Count >= CapacityPerThread)
        {
            // Only this thread uses these instances, and no verification of its is in progress between calls.
            foreach (AsymmetricAlgorithm old in keys.Values)
                old.Dispose();
            keys.Clear();
        }

        AsymmetricAlgorithm imported = import(key);
        keys[identity] = imported;
        return imported;
    }

    /// <summary>Everything that makes the public key what it is: type, exponent or curve, and the public point/modulus.</summary>
    private static string Identity(TpmtPublic key)
    {
        var bytes = new byte[10 + key.Unique.Length + key.UniqueY.Length];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), (ushort)key.Type);
        BitConverter.TryWriteBytes(bytes.AsSpan(2), key.RsaExponent);
        BitConverter.TryWriteBytes(bytes.AsSpan(6), (ushort)key.EccCurve);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), (ushort)key.Unique.Length); // where X ends and Y begins
        key.Unique.CopyTo(bytes, 10);
        key.UniqueY.CopyTo(bytes, 10 + key.Unique.Length);
        return Convert.ToBase64String(bytes);
    }
}
