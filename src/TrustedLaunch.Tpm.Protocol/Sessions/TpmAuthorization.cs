namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// One entry of a command's authorization area, <c>TPMS_AUTH_COMMAND</c> (TPM 2.0 Library Part 1 §18.7,
/// Part 2 §10.13.2): session handle, nonceCaller, TPMA_SESSION, hmac (or password).
/// </summary>
public abstract class TpmAuthorization
{
    /// <summary>The empty password: what a freshly manufactured TPM's hierarchies and most keys use.</summary>
    public static TpmAuthorization EmptyPassword { get; } = new PasswordAuthorization([]);

    /// <summary>A password session (<c>TPM_RS_PW</c>) carrying <paramref name="password"/> in the clear (Part 1 §19.8.4).</summary>
    public static TpmAuthorization Password(ReadOnlySpan<byte> password) => new PasswordAuthorization(password.ToArray());

    /// <summary>
    /// A policy session whose policy needs no authValue (PolicySecret, PolicyPCR, PolicyCommandCode…): the HMAC field
    /// is empty (Part 1 §19.7.1). The session stays open after the command unless <paramref name="continueSession"/> is false.
    /// </summary>
    public static TpmAuthorization Policy(uint sessionHandle, bool continueSession = true) =>
        new PolicySessionAuthorization(sessionHandle, continueSession);

    public abstract uint SessionHandle { get; }

    internal abstract void Write(TpmWriter writer);

    private sealed class PasswordAuthorization(byte[] password) : TpmAuthorization
    {
        public override uint SessionHandle => TpmHandles.PasswordSession;

        internal override void Write(TpmWriter writer)
        {
            writer.WriteUInt32(TpmHandles.PasswordSession);
            writer.WriteSized([]);                                   // nonceCaller: empty for a password session
            writer.WriteByte((byte)TpmaSession.ContinueSession);     // Part 1 §19.8.4: continueSession is ignored but conventionally set
            writer.WriteSized(password);                             // the password goes in the hmac field
        }
    }

    private sealed class PolicySessionAuthorization(uint handle, bool continueSession) : TpmAuthorization
    {
        public override uint SessionHandle => handle;

        internal override void Write(TpmWriter writer)
        {
            writer.WriteUInt32(handle);
            writer.WriteSized([]);
            writer.WriteByte(continueSession ? (byte)TpmaSession.ContinueSession : (byte)0);
            writer.WriteSized([]);
        }
    }
}
