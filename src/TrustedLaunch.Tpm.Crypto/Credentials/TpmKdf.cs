using System.Buffers.Binary;
using System.Security.Cryptography;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Crypto;

/// <summary>The TPM key-derivation functions (TPM 2.0 Library Part 1 §11.4.10).</summary>
public static class TpmKdf
{
    /// <summary>
    /// KDFa (Part 1 §11.4.10.2): SP 800-108 counter mode with HMAC-<paramref name="hash"/>. Each block is
    /// HMAC(key, [i]₃₂ ‖ label ‖ 00 ‖ contextU ‖ contextV ‖ [bits]₃₂); the label's NUL terminator is part of the input.
    /// </summary>
    public static byte[] KdfA(TpmAlgId hash, ReadOnlySpan<byte> key, string label, ReadOnlySpan<byte> contextU, ReadOnlySpan<byte> contextV, int bits)
    {
        var output = new byte[(bits + 7) / 8];
        byte[] labelBytes = LabelBytes(label);
        var input = new byte[4 + labelBytes.Length + contextU.Length + contextV.Length + 4];
        labelBytes.CopyTo(input, 4);
        contextU.CopyTo(input.AsSpan(4 + labelBytes.Length));
        contextV.CopyTo(input.AsSpan(4 + labelBytes.Length + contextU.Length));
        BinaryPrimitives.WriteUInt32BigEndian(input.AsSpan(input.Length - 4), (uint)bits);
        Span<byte> block = stackalloc byte[64];
        var name = TpmHashAlgorithm.ToHashAlgorithmName(hash);
        int done = 0;
        for (uint counter = 1; done < output.Length; counter++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(input, counter);
            int n = CryptographicOperations.HmacData(name, key, input, block);
            int take = Math.Min(n, output.Length - done);
            block[..take].CopyTo(output.AsSpan(done));
            done += take;
        }

        MaskExcessBits(output, bits);
        return output;
    }

    /// <summary>
    /// KDFe (Part 1 §11.4.10.3): SP 800-56A concatenation KDF. Each block is
    /// H([i]₃₂ ‖ Z ‖ label ‖ 00 ‖ partyUInfo ‖ partyVInfo).
    /// </summary>
    public static byte[] KdfE(TpmAlgId hash, ReadOnlySpan<byte> z, string label, ReadOnlySpan<byte> partyU, ReadOnlySpan<byte> partyV, int bits)
    {
        var output = new byte[(bits + 7) / 8];
        byte[] labelBytes = LabelBytes(label);
        var input = new byte[4 + z.Length + labelBytes.Length + partyU.Length + partyV.Length];
        int at = 4;
        z.CopyTo(input.AsSpan(at));
        at += z.Length;
        labelBytes.CopyTo(input, at);
        at += labelBytes.Length;
        partyU.CopyTo(input.AsSpan(at));
        partyV.CopyTo(input.AsSpan(at + partyU.Length));
        Span<byte> block = stackalloc byte[64];
        int done = 0;
        for (uint counter = 1; done < output.Length; counter++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(input, counter);
            int n = TpmHashAlgorithm.Hash(hash, input, block);
            int take = Math.Min(n, output.Length - done);
            block[..take].CopyTo(output.AsSpan(done));
            done += take;
        }

        MaskExcessBits(output, bits);
        return output;
    }

    /// <summary>The label as the TPM feeds it: ASCII plus a terminating NUL (Part 1 §11.4.10.2).</summary>
    internal static byte[] LabelBytes(string label)
    {
        var bytes = new byte[label.Length + 1];
        for (int i = 0; i < label.Length; i++)
            bytes[i] = (byte)label[i];
        return bytes;
    }

    private static void MaskExcessBits(byte[] output, int bits)
    {
        if (bits % 8 != 0)
            output[0] &= (byte)(0xFF >> (8 - (bits % 8))); // Part 1 §11.4.10.2: excess high-order bits are cleared
    }
}

/// <summary>AES in full-block CFB mode with zero IV, as TPM parameter and credential encryption use it (Part 1 §11.4.6.3).</summary>
public static class TpmAesCfb
{
    public static byte[] Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> plaintext) => Transform(key, iv, plaintext, encrypt: true);

    public static byte[] Decrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> ciphertext) => Transform(key, iv, ciphertext, encrypt: false);

    // CFB128 built on the block cipher so a partial last block needs no padding (the BCL's CFB wants whole blocks).
    private static byte[] Transform(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, bool encrypt)
    {
        using var aes = Aes.Create();
        aes.Key = key.ToArray();
        Span<byte> register = stackalloc byte[16];
        Span<byte> stream = stackalloc byte[16];
        register.Clear();
        iv[..Math.Min(16, iv.Length)].CopyTo(register);
        var output = new byte[input.Length];
        for (int offset = 0; offset < input.Length; offset += 16)
        {
            aes.EncryptEcb(register, stream, PaddingMode.None);
            int n = Math.Min(16, input.Length - offset);
            for (int i = 0; i < n; i++)
                output[offset + i] = (byte)(input[offset + i] ^ stream[i]);
            // The next register is the ciphertext block.
            (encrypt ? output.AsSpan(offset, n) : input.Slice(offset, n)).CopyTo(register);
        }

        return output;
    }
}
