using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

public sealed partial class TpmClient
{
    /// <summary>
    /// TPM2_StartAuthSession (Part 3 §11.1), unsalted and unbound: the form policy sessions for PolicySecret/PolicyPCR need.
    /// </summary>
    public AuthSession StartAuthSession(TpmSe type, TpmAlgId authHash = TpmAlgId.Sha256, TpmtSymDef? symmetric = null,
        uint tpmKey = TpmHandles.Null, uint bind = TpmHandles.Null, ReadOnlySpan<byte> encryptedSalt = default)
    {
        int nonceSize = TpmHashAlgorithm.DigestSize(authHash);
        if (nonceSize == 0)
            throw new ArgumentException($"authHash {authHash} is not a hash.", nameof(authHash));
        var c = new TpmCommandBuilder(TpmCc.StartAuthSession).Handle(tpmKey).Handle(bind);
        // Part 3 §11.1.1: nonceCaller must be at least 16 bytes and at most the digest size of authHash.
        c.Parameters.WriteSized(System.Security.Cryptography.RandomNumberGenerator.GetBytes(nonceSize));
        c.Parameters.WriteSized(encryptedSalt);
        c.Parameters.WriteByte((byte)type);
        (symmetric ?? TpmtSymDef.Null).Write(c.Parameters);
        c.Parameters.WriteAlgId(authHash);
        var response = Execute(c, responseHandles: 1);
        var r = response.ParameterReader();
        return new AuthSession(response.Handles[0], r.ReadSized().ToArray(), type, authHash);
    }

    /// <summary>
    /// TPM2_PolicySecret (Part 3 §23.4): extends the policy with the Name of <paramref name="authHandle"/>, proving
    /// knowledge of its authValue. With authHandle = TPM_RH_ENDORSEMENT this satisfies the TCG default EK policy.
    /// </summary>
    public PolicySecretResult PolicySecret(uint authHandle, AuthSession session, TpmAuthorization? auth = null,
        ReadOnlySpan<byte> cpHashA = default, ReadOnlySpan<byte> policyRef = default, int expiration = 0, bool includeNonce = false)
    {
        ArgumentNullException.ThrowIfNull(session);
        var c = new TpmCommandBuilder(TpmCc.PolicySecret).Handle(authHandle, auth ?? TpmAuthorization.EmptyPassword).Handle(session.Handle);
        c.Parameters.WriteSized(includeNonce ? session.NonceTpm : []);
        c.Parameters.WriteSized(cpHashA);
        c.Parameters.WriteSized(policyRef);
        c.Parameters.WriteUInt32(unchecked((uint)expiration));
        var r = Execute(c).ParameterReader();
        byte[] timeout = r.ReadSized().ToArray();
        return new PolicySecretResult(timeout, TpmtTicket.Read(ref r));
    }

    /// <summary>TPM2_PolicyPCR (Part 3 §23.7): binds the policy to the current (or given) PCR values.</summary>
    public void PolicyPcr(uint session, TpmlPcrSelection pcrs, ReadOnlySpan<byte> pcrDigest = default)
    {
        ArgumentNullException.ThrowIfNull(pcrs);
        var c = new TpmCommandBuilder(TpmCc.PolicyPCR).Handle(session);
        c.Parameters.WriteSized(pcrDigest);
        pcrs.Write(c.Parameters);
        Execute(c);
    }

    /// <summary>TPM2_PolicyCommandCode (Part 3 §23.11).</summary>
    public void PolicyCommandCode(uint session, TpmCc code)
    {
        var c = new TpmCommandBuilder(TpmCc.PolicyCommandCode).Handle(session);
        c.Parameters.WriteUInt32((uint)code);
        Execute(c);
    }

    /// <summary>TPM2_PolicyGetDigest (Part 3 §23.19): the session's current policyDigest.</summary>
    public byte[] PolicyGetDigest(uint session)
    {
        var r = Execute(new TpmCommandBuilder(TpmCc.PolicyGetDigest).Handle(session)).ParameterReader();
        return r.ReadSized().ToArray();
    }

    /// <summary>TPM2_PolicyRestart (Part 3 §23.20).</summary>
    public void PolicyRestart(uint session) => Execute(new TpmCommandBuilder(TpmCc.PolicyRestart).Handle(session));
}
