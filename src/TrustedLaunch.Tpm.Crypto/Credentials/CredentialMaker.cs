using System.Security.Cryptography;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Crypto;

/// <summary>
/// The verifier half of credential activation: TPM2_MakeCredential computed in software (TPM 2.0 Library Part 1
/// §24 "Credential Protection", Part 3 §12.6). Only a TPM holding the EK's private key, with an object of the given
/// Name loaded, can recover the credential through TPM2_ActivateCredential.
/// </summary>
public static class CredentialMaker
{
    /// <summary>
    /// Wraps <paramref name="credential"/> (at most the EK nameAlg's digest size) for the EK <paramref name="ekPublic"/>,
    /// bound to <paramref name="objectName"/> (typically the AK's Name).
    /// </summary>
    public static MadeCredential Make(TpmtPublic ekPublic, ReadOnlySpan<byte> credential, ReadOnlySpan<byte> objectName)
    {
        ArgumentNullException.ThrowIfNull(ekPublic);
        TpmAlgId nameAlg = ekPublic.NameAlg;
        int digestSize = TpmHashAlgorithm.DigestSize(nameAlg);
        if (digestSize == 0)
            throw new ArgumentException($"EK nameAlg {nameAlg} is not a hash.", nameof(ekPublic));
        if (credential.Length > digestSize)
            throw new ArgumentException($"A credential holds at most {digestSize} bytes with {nameAlg} (Part 3 §12.6.1).", nameof(credential));
        if (ekPublic.Symmetric.Algorithm != TpmAlgId.Aes || ekPublic.Symmetric.Mode != TpmAlgId.Cfb)
            throw new ArgumentException("The EK must be a storage key with AES-CFB symmetric protection.", nameof(ekPublic));
        if ((ekPublic.ObjectAttributes & (TpmaObject.Restricted | TpmaObject.Decrypt)) != (TpmaObject.Restricted | TpmaObject.Decrypt))
            throw new ArgumentException("The EK must be a restricted decryption key.", nameof(ekPublic));

        byte[] seed, secret;
        if (ekPublic.Type == TpmAlgId.Rsa)
            (seed, secret) = RsaSeed(ekPublic, nameAlg, digestSize);
        else if (ekPublic.Type == TpmAlgId.Ecc)
            (seed, secret) = EccSeed(ekPublic, nameAlg, digestSize);
        else
            throw new ArgumentException($"EK type {ekPublic.Type} cannot receive a credential.", nameof(ekPublic));

        try
        {
            return new MadeCredential(Protect(nameAlg, ekPublic.Symmetric.KeyBits, seed, credential, objectName).ToBytes(), secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Part 1 §24.4–24.5: symmetric encryption then outer HMAC, keyed from the seed.</summary>
    internal static TpmIdObject Protect(TpmAlgId nameAlg, int symKeyBits, ReadOnlySpan<byte> seed, ReadOnlySpan<byte> credential, ReadOnlySpan<byte> objectName)
    {
        byte[] symKey = TpmKdf.KdfA(nameAlg, seed, "STORAGE", objectName, [], symKeyBits);
        var plain = new TpmWriter(credential.Length + 2);
        plain.WriteSized(credential); // the credential is encrypted as a marshalled TPM2B_DIGEST
        byte[] encIdentity = TpmAesCfb.Encrypt(symKey, new byte[16], plain.WrittenSpan);
        byte[] hmacKey = TpmKdf.KdfA(nameAlg, seed, "INTEGRITY", [], [], TpmHashAlgorithm.DigestSize(nameAlg) * 8);
        var macInput = new byte[encIdentity.Length + objectName.Length];
        encIdentity.CopyTo(macInput, 0);
        objectName.CopyTo(macInput.AsSpan(encIdentity.Length));
        byte[] outerHmac = CryptographicOperations.HmacData(TpmHashAlgorithm.ToHashAlgorithmName(nameAlg), hmacKey, macInput);
        CryptographicOperations.ZeroMemory(symKey);
        CryptographicOperations.ZeroMemory(hmacKey);
        return new TpmIdObject(outerHmac, encIdentity);
    }

    /// <summary>Part 1 §B.10.3: a random seed, RSA-OAEP-encrypted to the EK with label "IDENTITY\0".</summary>
    private static (byte[] Seed, byte[] Secret) RsaSeed(TpmtPublic ek, TpmAlgId nameAlg, int digestSize)
    {
        byte[] seed = RandomNumberGenerator.GetBytes(digestSize);
        using RSA rsa = ek.ToRsa();
        byte[] secret = RsaPrimitives.OaepEncrypt(rsa.ExportParameters(false), nameAlg, TpmKdf.LabelBytes("IDENTITY"), seed);
        return (seed, secret);
    }

    /// <summary>
    /// Part 1 §C.6.4 (ECDH secret sharing): an ephemeral key on the EK's curve; Z is the x coordinate of the shared
    /// point and seed = KDFe(nameAlg, Z, "IDENTITY", Qe.x, Qek.x). The secret sent is the ephemeral public point.
    /// </summary>
    private static (byte[] Seed, byte[] Secret) EccSeed(TpmtPublic ek, TpmAlgId nameAlg, int digestSize)
    {
        ECParameters ekParameters = ek.ToEcParameters();
        using var ekKey = ECDiffieHellman.Create(ekParameters);
        using var ephemeral = ECDiffieHellman.Create(ekParameters.Curve);
        byte[] z = ephemeral.DeriveRawSecretAgreement(ekKey.PublicKey);
        ECParameters e = ephemeral.ExportParameters(false);
        byte[] seed = TpmKdf.KdfE(nameAlg, z, "IDENTITY", e.Q.X, ekParameters.Q.X, digestSize * 8);
        CryptographicOperations.ZeroMemory(z);
        return (seed, new TpmsEccPoint(e.Q.X!, e.Q.Y!).ToBytes());
    }
}
