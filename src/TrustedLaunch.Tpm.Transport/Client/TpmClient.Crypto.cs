using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

public sealed partial class TpmClient
{
    /// <summary>
    /// TPM2_RSA_Decrypt (Part 3 §14.3) with <paramref name="keyHandle"/> in the USER role: a password, or a policy session
    /// that satisfies the key's authPolicy. A NULL <paramref name="scheme"/> uses the key's own scheme. The plaintext is
    /// the caller's to zero.
    /// </summary>
    public byte[] RsaDecrypt(uint keyHandle, ReadOnlySpan<byte> cipherText, TpmtScheme? scheme = null, ReadOnlySpan<byte> label = default,
        TpmAuthorization? keyAuth = null)
    {
        var c = new TpmCommandBuilder(TpmCc.RSA_Decrypt).Handle(keyHandle, keyAuth ?? TpmAuthorization.EmptyPassword);
        c.Parameters.WriteSized(cipherText);          // TPM2B_PUBLIC_KEY_RSA cipherText
        (scheme ?? TpmtScheme.Null).Write(c.Parameters); // TPMT_RSA_DECRYPT inScheme
        c.Parameters.WriteSized(label);               // TPM2B_DATA label (Part 1 §B.4: OAEP's L)
        var r = Execute(c).ParameterReader();
        return r.ReadSized().ToArray();
    }

    /// <summary>TPM2_Hash (Part 3 §15.4) of at most MAX_DIGEST_BUFFER (1024) bytes, without a ticket (hierarchy TPM_RH_NULL).</summary>
    public byte[] Hash(ReadOnlySpan<byte> data, TpmAlgId hashAlg = TpmAlgId.Sha256)
    {
        var c = new TpmCommandBuilder(TpmCc.Hash);
        c.Parameters.WriteSized(data);
        c.Parameters.WriteAlgId(hashAlg);
        c.Parameters.WriteUInt32(TpmHandles.Null);
        var r = Execute(c).ParameterReader();
        byte[] digest = r.ReadSized().ToArray();
        TpmtTicket.Read(ref r); // TPMT_TK_HASHCHECK: a NULL ticket for hierarchy TPM_RH_NULL
        return digest;
    }
}
