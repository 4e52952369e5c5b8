using System.Collections.Concurrent;
using System.Security.Cryptography;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Crypto;

/// <summary>
/// Imported signature-checking keys, kept by the host that owns a verifier. Turning a TPMT_PUBLIC into an OpenSSL key
/// costs ~100 µs (QuoteVerificationBenchmarks.ImportAkKey), most of a quote check, and a verifier sees the same AKs
/// again and again. Instances are lent to one caller at a time (the BCL does not promise that one RSA/ECDsa object may
/// be used by several threads at once) and returned after the check; bounded by key and by idle copies per key.
/// </summary>
public sealed class VerificationKeyCache(int maxKeys = 256)
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<AsymmetricAlgorithm>> _idle = new(StringComparer.Ordinal);
    private readonly int _maxIdlePerKey = Math.Max(2, Environment.ProcessorCount);

    /// <summary>Runs <paramref name="check"/> with the RSA key of <paramref name="key"/>, imported or lent.</summary>
    public T WithRsa<T>(TpmtPublic key, Func<RSA, T> check) => With(key, static k => k.ToRsa(), check);

    /// <summary>Runs <paramref name="check"/> with the ECDSA key of <paramref name="key"/>, imported or lent.</summary>
    public T WithEcdsa<T>(TpmtPublic key, Func<ECDsa, T> check) => With(key, static k => k.ToECDsa(), check);

    private TResult With<TKey, TResult>(TpmtPublic key, Func<TpmtPublic, TKey> import, Func<TKey, TResult> check)
        where TKey : AsymmetricAlgorithm
    {
        ArgumentNullException.ThrowIfNull(key);
        string identity = Identity(key);
        TKey lent = _idle.TryGetValue(identity, out ConcurrentBag<AsymmetricAlgorithm>? bag) && bag.TryTake(out AsymmetricAlgorithm? idle)
            ? (TKey)idle
            : import(key);
        try
        {
            return check(lent);
        }
        finally
        {
            Return(identity, lent);
        }
    }

    private void Return(string identity, AsymmetricAlgorithm key)
    {
        if (_idle.Count >= maxKeys && !_idle.ContainsKey(identity))
            _idle.Clear(); // a bag taken away is no longer lent from; its keys are left to their finalizers
        ConcurrentBag<AsymmetricAlgorithm> bag = _idle.GetOrAdd(identity, static _ => []);
        if (bag.Count < _maxIdlePerKey)
            bag.Add(key);
        else
            key.Dispose();
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
