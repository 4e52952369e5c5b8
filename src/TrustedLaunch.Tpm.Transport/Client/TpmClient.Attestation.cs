using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

public sealed partial class TpmClient
{
    /// <summary>TPM2_Quote (Part 3 §18.4). A NULL <paramref name="scheme"/> uses the key's own scheme.</summary>
    public AttestationResult Quote(uint signHandle, ReadOnlySpan<byte> qualifyingData, TpmlPcrSelection pcrs,
        TpmtScheme? scheme = null, TpmAuthorization? signAuth = null)
    {
        ArgumentNullException.ThrowIfNull(pcrs);
        var c = new TpmCommandBuilder(TpmCc.Quote).Handle(signHandle, signAuth ?? TpmAuthorization.EmptyPassword);
        c.Parameters.WriteSized(qualifyingData);
        (scheme ?? TpmtScheme.Null).Write(c.Parameters);
        pcrs.Write(c.Parameters);
        return ReadAttestation(Execute(c));
    }

    /// <summary>TPM2_Certify (Part 3 §18.2): <paramref name="signHandle"/> vouches that <paramref name="objectHandle"/> is loaded in this TPM.</summary>
    public AttestationResult Certify(uint objectHandle, uint signHandle, ReadOnlySpan<byte> qualifyingData,
        TpmtScheme? scheme = null, TpmAuthorization? objectAuth = null, TpmAuthorization? signAuth = null)
    {
        var c = new TpmCommandBuilder(TpmCc.Certify)
            .Handle(objectHandle, objectAuth ?? TpmAuthorization.EmptyPassword)
            .Handle(signHandle, signAuth ?? TpmAuthorization.EmptyPassword);
        c.Parameters.WriteSized(qualifyingData);
        (scheme ?? TpmtScheme.Null).Write(c.Parameters);
        return ReadAttestation(Execute(c));
    }

    private static AttestationResult ReadAttestation(TpmResponse response)
    {
        var r = response.ParameterReader();
        byte[] attest = r.ReadSized().ToArray(); // TPM2B_ATTEST
        int sigStart = r.Position;
        var signature = TpmtSignature.Read(ref r);
        byte[] sigBytes = response.Parameters[sigStart..r.Position].ToArray();
        return new AttestationResult(attest, TpmsAttest.Parse(attest), signature, sigBytes);
    }

    /// <summary>
    /// TPM2_ActivateCredential (Part 3 §12.5): <paramref name="keyHandle"/> (the EK) decrypts the seed and releases the
    /// credential if <paramref name="activateHandle"/>'s Name is the one the credential was made for.
    /// </summary>
    public byte[] ActivateCredential(uint activateHandle, uint keyHandle, ReadOnlySpan<byte> credentialBlob, ReadOnlySpan<byte> secret,
        TpmAuthorization? activateAuth = null, TpmAuthorization? keyAuth = null)
    {
        var c = new TpmCommandBuilder(TpmCc.ActivateCredential)
            .Handle(activateHandle, activateAuth ?? TpmAuthorization.EmptyPassword)
            .Handle(keyHandle, keyAuth ?? TpmAuthorization.EmptyPassword);
        c.Parameters.WriteSized(credentialBlob);
        c.Parameters.WriteSized(secret);
        var r = Execute(c).ParameterReader();
        return r.ReadSized().ToArray();
    }

    /// <summary>TPM2_MakeCredential (Part 3 §12.6) computed by the TPM with a loaded public key (no authorization).</summary>
    public MadeCredential MakeCredential(uint handle, ReadOnlySpan<byte> credential, ReadOnlySpan<byte> objectName)
    {
        var c = new TpmCommandBuilder(TpmCc.MakeCredential).Handle(handle);
        c.Parameters.WriteSized(credential);
        c.Parameters.WriteSized(objectName);
        var r = Execute(c).ParameterReader();
        return new MadeCredential(r.ReadSized().ToArray(), r.ReadSized().ToArray());
    }

    /// <summary>TPM2_LoadExternal (Part 3 §12.3) of a public area only, in <paramref name="hierarchy"/>.</summary>
    public (uint Handle, byte[] Name) LoadExternalPublic(TpmtPublic publicArea, uint hierarchy = TpmHandles.Owner)
    {
        ArgumentNullException.ThrowIfNull(publicArea);
        var c = new TpmCommandBuilder(TpmCc.LoadExternal);
        c.Parameters.WriteSized([]); // inPrivate: an empty TPM2B_SENSITIVE loads the public part only
        publicArea.WriteSized(c.Parameters);
        c.Parameters.WriteUInt32(hierarchy);
        var response = Execute(c, responseHandles: 1);
        var r = response.ParameterReader();
        return (response.Handles[0], r.ReadSized().ToArray());
    }
}
