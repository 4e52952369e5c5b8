using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Crypto;

/// <summary>
/// SHA-1/256/384/512 through OpenSSL's low-level <c>SHA*_Init/Update/Final</c> functions, called directly. Why: the BCL's
/// one-shot <c>HashData</c> goes through EVP (context allocation, provider dispatch, free) at ~0.4-0.6 µs per call on
/// this machine, which is 5-10x the hash itself for the 40-128-byte inputs of a PCR extend; an event-log replay makes one
/// call per event per bank. The low-level functions run the same assembly (SHA-NI/AVX2) at 0.05-0.3 µs per extend.
/// They are deprecated in OpenSSL 3 but exported with a stable ABI throughout 3.x; the BCL itself loads this library.
/// Used only when libcrypto.so.3 loads, exports every function and passes a known-answer test against the BCL at
/// first use; otherwise <see cref="IsAvailable"/> is false and <see cref="OpenSslTpmDigest"/> uses the BCL.
/// </summary>
internal static unsafe class OpenSslDigest
{
    // The largest OpenSSL context, SHA512_CTX, is 216 bytes (sha.h); 256 bytes of ulong keep it 8-byte aligned.
    private const int ContextWords = 32;

    private static readonly Functions? s_sha1;
    private static readonly Functions? s_sha256;
    private static readonly Functions? s_sha384;
    private static readonly Functions? s_sha512;

#pragma warning disable CA1810 // one load decides every field; a static constructor keeps that in one place
    static OpenSslDigest()
#pragma warning restore CA1810
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libcrypto.so.3", typeof(OpenSslDigest).Assembly, null, out nint library))
            return;
        s_sha1 = Load(library, "SHA1", HashAlgorithmName.SHA1, 20);
        s_sha256 = Load(library, "SHA256", HashAlgorithmName.SHA256, 32);
        s_sha384 = Load(library, "SHA384", HashAlgorithmName.SHA384, 48);
        s_sha512 = Load(library, "SHA512", HashAlgorithmName.SHA512, 64);
    }

    /// <summary>True when every SHA-2 and SHA-1 function loaded and passed its known-answer test.</summary>
    public static bool IsAvailable => s_sha1 is not null && s_sha256 is not null && s_sha384 is not null && s_sha512 is not null;

    /// <summary>Hashes with OpenSSL directly; false (nothing written) when <paramref name="alg"/> has no direct path here.</summary>
    public static bool TryHash(TpmAlgId alg, ReadOnlySpan<byte> data, Span<byte> destination, out int written)
    {
        Functions? f = alg switch
        {
            TpmAlgId.Sha1 => s_sha1,
            TpmAlgId.Sha256 => s_sha256,
            TpmAlgId.Sha384 => s_sha384,
            TpmAlgId.Sha512 => s_sha512,
            _ => null,
        };
        if (f is null)
        {
            written = 0;
            return false;
        }

        if (destination.Length < f.Size)
            throw new ArgumentException($"destination holds {destination.Length} bytes; the digest needs {f.Size}", nameof(destination));
        Run(f, data, destination);
        written = f.Size;
        return true;
    }

    private static void Run(Functions f, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        ulong* context = stackalloc ulong[ContextWords];
        fixed (byte* input = data)
        fixed (byte* output = destination)
        {
            // Each returns 1; they cannot fail for a valid context and lengths, so the results carry nothing to check.
            _ = f.Init(context);
            _ = f.Update(context, input, (nuint)data.Length);
            _ = f.Final(output, context);
        }
    }

    private static Functions? Load(nint library, string name, HashAlgorithmName bcl, int size)
    {
        if (!NativeLibrary.TryGetExport(library, name + "_Init", out nint init) ||
            !NativeLibrary.TryGetExport(library, name + "_Update", out nint update) ||
            !NativeLibrary.TryGetExport(library, name + "_Final", out nint final))
        {
            return null;
        }

        var f = new Functions(
            (delegate* unmanaged<ulong*, int>)init,
            (delegate* unmanaged<ulong*, byte*, nuint, int>)update,
            (delegate* unmanaged<byte*, ulong*, int>)final,
            size);

        // Known answer: a two-block input so padding and the block loop both run; must equal the BCL's digest.
        ReadOnlySpan<byte> probe = "TrustedLaunch OpenSSL low-level digest known-answer test: padding crosses into a second block."u8;
        Span<byte> ours = stackalloc byte[64];
        Span<byte> theirs = stackalloc byte[64];
        Run(f, probe, ours);
        int n = CryptographicOperations.HashData(bcl, probe, theirs);
        return n == size && ours[..size].SequenceEqual(theirs[..size]) ? f : null;
    }

    private sealed class Functions(
        delegate* unmanaged<ulong*, int> init,
        delegate* unmanaged<ulong*, byte*, nuint, int> update,
        delegate* unmanaged<byte*, ulong*, int> final,
        int size)
    {
        public delegate* unmanaged<ulong*, int> Init { get; } = init;

        public delegate* unmanaged<ulong*, byte*, nuint, int> Update { get; } = update;

        public delegate* unmanaged<byte*, ulong*, int> Final { get; } = final;

        public int Size { get; } = size;
    }
}
