using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

public sealed partial class TpmClient
{
    /// <summary>TPM2_CreatePrimary (Part 3 §24.1) under <paramref name="hierarchy"/>.</summary>
    public CreatePrimaryResult CreatePrimary(uint hierarchy, TpmtPublic template, ReadOnlySpan<byte> userAuth = default,
        TpmAuthorization? hierarchyAuth = null, ReadOnlySpan<byte> outsideInfo = default, TpmlPcrSelection? creationPcrs = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        var c = new TpmCommandBuilder(TpmCc.CreatePrimary).Handle(hierarchy, hierarchyAuth ?? TpmAuthorization.EmptyPassword);
        WriteCreateParameters(c.Parameters, template, userAuth, outsideInfo, creationPcrs);
        var response = Execute(c, responseHandles: 1);
        var r = response.ParameterReader();
        var pub = TpmtPublic.ReadSized(ref r, out byte[] pubBytes);
        byte[] creationData = r.ReadSized().ToArray();
        byte[] creationHash = r.ReadSized().ToArray();
        var ticket = TpmtTicket.Read(ref r);
        byte[] name = r.ReadSized().ToArray();
        return new CreatePrimaryResult(response.Handles[0], pub, pubBytes, creationData, creationHash, ticket, name);
    }

    /// <summary>TPM2_Create (Part 3 §12.1): a child key under a loaded storage parent.</summary>
    public CreateResult Create(uint parent, TpmtPublic template, ReadOnlySpan<byte> userAuth = default,
        TpmAuthorization? parentAuth = null, ReadOnlySpan<byte> outsideInfo = default, TpmlPcrSelection? creationPcrs = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        var c = new TpmCommandBuilder(TpmCc.Create).Handle(parent, parentAuth ?? TpmAuthorization.EmptyPassword);
        WriteCreateParameters(c.Parameters, template, userAuth, outsideInfo, creationPcrs);
        var r = Execute(c).ParameterReader();
        byte[] priv = r.ReadSized().ToArray();
        var pub = TpmtPublic.ReadSized(ref r, out byte[] pubBytes);
        byte[] creationData = r.ReadSized().ToArray();
        byte[] creationHash = r.ReadSized().ToArray();
        var ticket = TpmtTicket.Read(ref r);
        return new CreateResult(priv, pub, pubBytes, creationData, creationHash, ticket);
    }

    private static void WriteCreateParameters(TpmWriter p, TpmtPublic template, ReadOnlySpan<byte> userAuth,
        ReadOnlySpan<byte> outsideInfo, TpmlPcrSelection? creationPcrs)
    {
        int sensitive = p.BeginSized(); // TPM2B_SENSITIVE_CREATE { userAuth, data } (Part 2 §11.1.15)
        p.WriteSized(userAuth);
        p.WriteSized([]);
        p.EndSized(sensitive);
        template.WriteSized(p);
        p.WriteSized(outsideInfo);
        (creationPcrs ?? TpmlPcrSelection.Empty).Write(p);
    }

    /// <summary>TPM2_Load (Part 3 §12.2); returns the transient handle and the object's Name.</summary>
    public (uint Handle, byte[] Name) Load(uint parent, ReadOnlySpan<byte> privateArea, TpmtPublic publicArea, TpmAuthorization? parentAuth = null)
    {
        ArgumentNullException.ThrowIfNull(publicArea);
        var c = new TpmCommandBuilder(TpmCc.Load).Handle(parent, parentAuth ?? TpmAuthorization.EmptyPassword);
        c.Parameters.WriteSized(privateArea);
        publicArea.WriteSized(c.Parameters);
        var response = Execute(c, responseHandles: 1);
        var r = response.ParameterReader();
        return (response.Handles[0], r.ReadSized().ToArray());
    }

    /// <summary>TPM2_ReadPublic (Part 3 §12.4).</summary>
    public ReadPublicResult ReadPublic(uint handle)
    {
        var r = Execute(new TpmCommandBuilder(TpmCc.ReadPublic).Handle(handle)).ParameterReader();
        var pub = TpmtPublic.ReadSized(ref r, out byte[] pubBytes);
        return new ReadPublicResult(pub, pubBytes, r.ReadSized().ToArray(), r.ReadSized().ToArray());
    }

    /// <summary>
    /// TPM2_EvictControl (Part 3 §28.5): persists a transient object at <paramref name="persistentHandle"/>, or removes
    /// a persistent object when <paramref name="objectHandle"/> is that persistent handle.
    /// </summary>
    public void EvictControl(uint objectHandle, uint persistentHandle, uint auth = TpmHandles.Owner, TpmAuthorization? authorization = null)
    {
        var c = new TpmCommandBuilder(TpmCc.EvictControl).Handle(auth, authorization ?? TpmAuthorization.EmptyPassword).Handle(objectHandle);
        c.Parameters.WriteUInt32(persistentHandle);
        Execute(c);
    }

    /// <summary>TPM2_FlushContext (Part 3 §28.4); the handle travels in the parameter area.</summary>
    public void FlushContext(uint handle)
    {
        var c = new TpmCommandBuilder(TpmCc.FlushContext);
        c.Parameters.WriteUInt32(handle);
        Execute(c);
    }
}
