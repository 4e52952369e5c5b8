using System.Numerics;
using System.Security.Cryptography;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Crypto;

/// <summary>
/// RSA public-key operations the BCL does not expose: OAEP with a label (the TPM's "IDENTITY"/"DUPLICATE"/"SECRET"
/// labels, Part 1 §B.10.3) and PSS verification that accepts any salt length (TPMs differ: hash-size or maximum).
/// Only public operations live here; nothing secret depends on the exponent.
/// </summary>
internal static class RsaPrimitives
{
    /// <summary>RSAES-OAEP-ENCRYPT (RFC 8017 §7.1.1) with MGF1 over <paramref name="hash"/> and the given label.</summary>
    public static byte[] OaepEncrypt(RSAParameters key, TpmAlgId hash, ReadOnlySpan<byte> label, ReadOnlySpan<byte> message)
    {
        int k = key.Modulus!.Length;
        int hLen = TpmHashAlgorithm.DigestSize(hash);
        if (message.Length > k - (2 * hLen) - 2)
            throw new CryptographicException($"OAEP message of {message.Length} bytes is too long for a {k * 8}-bit key.");
        var em = new byte[k];
        Span<byte> seed = em.AsSpan(1, hLen);
        Span<byte> db = em.AsSpan(1 + hLen);
        TpmHashAlgorithm.Hash(hash, label, db); // lHash
        db[db.Length - message.Length - 1] = 0x01;
        message.CopyTo(db[(db.Length - message.Length)..]);
        RandomNumberGenerator.Fill(seed);
        Xor(db, Mgf1(hash, seed, db.Length));
        Xor(seed, Mgf1(hash, db, hLen));
        return PublicOperation(key, em);
    }

    /// <summary>RSASSA-PSS-VERIFY (RFC 8017 §8.1.2) with MGF1 over <paramref name="hash"/>, salt length recovered from the encoding.</summary>
    public static bool PssVerify(RSAParameters key, TpmAlgId hash, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        int k = key.Modulus!.Length;
        if (signature.Length != k)
            return false;
        int modBits = (int)new BigInteger(key.Modulus, isUnsigned: true, isBigEndian: true).GetBitLength();
        int emBits = modBits - 1;
        int emLen = (emBits + 7) / 8;
        byte[] m = PublicOperation(key, signature);
        if (m.Length - emLen > 0 && m.AsSpan(0, m.Length - emLen).ContainsAnyExcept((byte)0))
            return false;
        ReadOnlySpan<byte> em = m.AsSpan(m.Length - emLen);
        int hLen = TpmHashAlgorithm.DigestSize(hash);
        if (emLen < hLen + 2 || em[^1] != 0xBC)
            return false;
        byte[] maskedDb = em[..(emLen - hLen - 1)].ToArray();
        ReadOnlySpan<byte> h = em.Slice(emLen - hLen - 1, hLen);
        int zeroBits = (8 * emLen) - emBits;
        if ((maskedDb[0] & (0xFF << (8 - zeroBits)) & 0xFF) != 0)
            return false;
        Xor(maskedDb, Mgf1(hash, h, maskedDb.Length));
        maskedDb[0] &= (byte)(0xFF >> zeroBits);
        int one = maskedDb.AsSpan().IndexOfAnyExcept((byte)0);
        if (one < 0 || maskedDb[one] != 0x01)
            return false;
        ReadOnlySpan<byte> salt = maskedDb.AsSpan(one + 1);
        Span<byte> mHash = stackalloc byte[64];
        TpmHashAlgorithm.Hash(hash, message, mHash);
        var mPrime = new byte[8 + hLen + salt.Length];
        mHash[..hLen].CopyTo(mPrime.AsSpan(8));
        salt.CopyTo(mPrime.AsSpan(8 + hLen));
        Span<byte> hPrime = stackalloc byte[64];
        TpmHashAlgorithm.Hash(hash, mPrime, hPrime);
        return CryptographicOperations.FixedTimeEquals(h, hPrime[..hLen]);
    }

    private static byte[] PublicOperation(RSAParameters key, ReadOnlySpan<byte> input)
    {
        var n = new BigInteger(key.Modulus, isUnsigned: true, isBigEndian: true);
        var e = new BigInteger(key.Exponent, isUnsigned: true, isBigEndian: true);
        var x = new BigInteger(input, isUnsigned: true, isBigEndian: true);
        if (x >= n)
            throw new CryptographicException("RSA input is not smaller than the modulus.");
        byte[] y = BigInteger.ModPow(x, e, n).ToByteArray(isUnsigned: true, isBigEndian: true);
        var output = new byte[key.Modulus!.Length];
        y.CopyTo(output, output.Length - y.Length);
        return output;
    }

    private static byte[] Mgf1(TpmAlgId hash, ReadOnlySpan<byte> seed, int length)
    {
        var output = new byte[length];
        var input = new byte[seed.Length + 4];
        seed.CopyTo(input);
        Span<byte> block = stackalloc byte[64];
        int done = 0;
        for (uint counter = 0; done < length; counter++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(input.AsSpan(seed.Length), counter);
            int n = TpmHashAlgorithm.Hash(hash, input, block);
            int take = Math.Min(n, length - done);
            block[..take].CopyTo(output.AsSpan(done));
            done += take;
        }

        return output;
    }

    private static void Xor(Span<byte> target, ReadOnlySpan<byte> mask)
    {
        for (int i = 0; i < target.Length; i++)
            target[i] ^= mask[i];
    }
}
