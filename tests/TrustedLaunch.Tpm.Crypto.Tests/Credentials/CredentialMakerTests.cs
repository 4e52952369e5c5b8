using System.Security.Cryptography;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Crypto.Tests.Credentials;

public sealed class CredentialMakerTests
{
    [Fact]
    public void KdfA_AgreesWithBclSp800108CounterKdf()
    {
        byte[] key = RandomNumberGenerator.GetBytes(32);
        byte[] u = RandomNumberGenerator.GetBytes(34), v = RandomNumberGenerator.GetBytes(5);
        foreach (int bits in new[] { 128, 256, 512, 776 })
        {
            byte[] ours = TpmKdf.KdfA(TpmAlgId.Sha256, key, "STORAGE", u, v, bits);
            // SP 800-108 counter mode: [i] ‖ Label ‖ 0x00 ‖ Context ‖ [L] — the TPM's context is contextU ‖ contextV.
            byte[] bcl = SP800108HmacCounterKdf.DeriveBytes(key, HashAlgorithmName.SHA256, "STORAGE"u8, [.. u, .. v], bits / 8);
            Assert.Equal(bcl, ours);
        }
    }

    [Fact]
    public void AesCfb_FullBlocks_AgreesWithBclCfb128AndPartialBlockRoundTrips()
    {
        byte[] key = RandomNumberGenerator.GetBytes(16), iv = new byte[16];
        byte[] data = RandomNumberGenerator.GetBytes(48);
        using var aes = Aes.Create();
        aes.Key = key;
        Assert.Equal(aes.EncryptCfb(data, iv, PaddingMode.None, 128), TpmAesCfb.Encrypt(key, iv, data));
        byte[] odd = RandomNumberGenerator.GetBytes(34);
        Assert.Equal(odd, TpmAesCfb.Decrypt(key, iv, TpmAesCfb.Encrypt(key, iv, odd)));
    }

    [Theory]
    [InlineData("rsa")]
    [InlineData("ecc")]
    public void Make_SoftwareActivation_RecoversCredentialAndChecksIntegrity(string alg)
    {
        // Software ActivateCredential (Part 1 §24.6) with the EK private key proves the construction end to end.
        using RSA rsa = RSA.Create(2048);
        using ECDiffieHellman ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        TpmtPublic ek = alg == "rsa"
            ? EkTemplates.RsaL1 with { Unique = rsa.ExportParameters(false).Modulus! }
            : EkTemplates.EccL2 with { Unique = ecdh.ExportParameters(false).Q.X!, UniqueY = ecdh.ExportParameters(false).Q.Y! };
        byte[] credential = RandomNumberGenerator.GetBytes(32);
        byte[] name = [0x00, 0x0B, .. RandomNumberGenerator.GetBytes(32)];
        var made = CredentialMaker.Make(ek, credential, name);

        byte[] seed;
        if (alg == "rsa")
        {
            // The BCL has no OAEP label support; decrypt raw and strip OAEP by hand against the "IDENTITY\0" label hash.
            seed = OaepDecodeWithLabel(rsa, made.Secret);
        }
        else
        {
            var point = TpmsEccPoint.Parse(made.Secret);
            using var ephemeral = ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = point.X, Y = point.Y } });
            byte[] z = ecdh.DeriveRawSecretAgreement(ephemeral.PublicKey);
            seed = TpmKdf.KdfE(TpmAlgId.Sha256, z, "IDENTITY", point.X, ek.Unique, 256);
        }

        var id = TpmIdObject.Parse(made.CredentialBlob);
        byte[] hmacKey = TpmKdf.KdfA(TpmAlgId.Sha256, seed, "INTEGRITY", [], [], 256);
        Assert.Equal(HMACSHA256.HashData(hmacKey, (byte[])[.. id.EncIdentity, .. name]), id.IntegrityHmac);
        byte[] symKey = TpmKdf.KdfA(TpmAlgId.Sha256, seed, "STORAGE", name, [], 128);
        byte[] plain = TpmAesCfb.Decrypt(symKey, new byte[16], id.EncIdentity);
        Assert.Equal([0x00, 0x20, .. credential], plain);
    }

    [Fact]
    public void Make_OversizedCredentialOrSigningKey_Refused()
    {
        Assert.Throws<ArgumentException>(() => CredentialMaker.Make(EkTemplates.RsaL1, new byte[33], new byte[34]));
        Assert.Throws<ArgumentException>(() => CredentialMaker.Make(KeyTemplates.RsaAttestationKey(), new byte[16], new byte[34]));
    }

    private static byte[] OaepDecodeWithLabel(RSA rsa, byte[] cipher)
    {
        // Raw RSA private operation via PKCS#1 parameters, then EME-OAEP decoding (RFC 8017 §7.1.2) with label "IDENTITY\0".
        var p = rsa.ExportParameters(true);
        var n = new System.Numerics.BigInteger(p.Modulus, true, true);
        var d = new System.Numerics.BigInteger(p.D, true, true);
        byte[] m = System.Numerics.BigInteger.ModPow(new System.Numerics.BigInteger(cipher, true, true), d, n).ToByteArray(true, true);
        byte[] em = new byte[p.Modulus!.Length];
        m.CopyTo(em, em.Length - m.Length);
        byte[] maskedSeed = em[1..33], maskedDb = em[33..];
        byte[] seed = Xor(maskedSeed, Mgf1(maskedDb, 32));
        byte[] db = Xor(maskedDb, Mgf1(seed, maskedDb.Length));
        Assert.Equal(SHA256.HashData("IDENTITY\0"u8), db[..32]);
        int one = Array.IndexOf(db, (byte)1, 32);
        return db[(one + 1)..];
    }

    private static byte[] Mgf1(byte[] seed, int length)
    {
        var output = new List<byte>();
        for (uint c = 0; output.Count < length; c++)
            output.AddRange(SHA256.HashData([.. seed, (byte)(c >> 24), (byte)(c >> 16), (byte)(c >> 8), (byte)c]));
        return output.Take(length).ToArray();
    }

    private static byte[] Xor(byte[] a, byte[] b) => a.Select((x, i) => (byte)(x ^ b[i])).ToArray();
}
