using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

public sealed partial class TpmClient
{
    /// <summary>Bytes per NV_Read/NV_Write call: MAX_NV_BUFFER_SIZE of libtpms and most TPMs (TPM_PT_NV_BUFFER_MAX).</summary>
    public int NvBufferSize { get; init; } = 1024;

    /// <summary>TPM2_NV_DefineSpace (Part 3 §31.3).</summary>
    public void NvDefineSpace(TpmsNvPublic nvPublic, ReadOnlySpan<byte> indexAuth = default, uint authHandle = TpmHandles.Owner,
        TpmAuthorization? auth = null)
    {
        ArgumentNullException.ThrowIfNull(nvPublic);
        var c = new TpmCommandBuilder(TpmCc.NV_DefineSpace).Handle(authHandle, auth ?? TpmAuthorization.EmptyPassword);
        c.Parameters.WriteSized(indexAuth);
        nvPublic.WriteSized(c.Parameters);
        Execute(c);
    }

    /// <summary>TPM2_NV_UndefineSpace (Part 3 §31.4).</summary>
    public void NvUndefineSpace(uint nvIndex, uint authHandle = TpmHandles.Owner, TpmAuthorization? auth = null)
    {
        Execute(new TpmCommandBuilder(TpmCc.NV_UndefineSpace).Handle(authHandle, auth ?? TpmAuthorization.EmptyPassword).Handle(nvIndex));
    }

    /// <summary>TPM2_NV_Write (Part 3 §31.7): one call of at most <see cref="NvBufferSize"/> bytes.</summary>
    public void NvWrite(uint nvIndex, ReadOnlySpan<byte> data, ushort offset = 0, uint? authHandle = null, TpmAuthorization? auth = null)
    {
        var c = new TpmCommandBuilder(TpmCc.NV_Write).Handle(authHandle ?? nvIndex, auth ?? TpmAuthorization.EmptyPassword).Handle(nvIndex);
        c.Parameters.WriteSized(data);
        c.Parameters.WriteUInt16(offset);
        Execute(c);
    }

    /// <summary>Writes <paramref name="data"/> from offset 0 in <see cref="NvBufferSize"/> chunks.</summary>
    public void NvWriteAll(uint nvIndex, ReadOnlySpan<byte> data, uint? authHandle = null, TpmAuthorization? auth = null)
    {
        for (int offset = 0; offset < data.Length; offset += NvBufferSize)
            NvWrite(nvIndex, data.Slice(offset, Math.Min(NvBufferSize, data.Length - offset)), (ushort)offset, authHandle, auth);
    }

    /// <summary>TPM2_NV_Read (Part 3 §31.13): one call of at most <see cref="NvBufferSize"/> bytes.</summary>
    public byte[] NvRead(uint nvIndex, ushort size, ushort offset = 0, uint? authHandle = null, TpmAuthorization? auth = null)
    {
        var c = new TpmCommandBuilder(TpmCc.NV_Read).Handle(authHandle ?? nvIndex, auth ?? TpmAuthorization.EmptyPassword).Handle(nvIndex);
        c.Parameters.WriteUInt16(size);
        c.Parameters.WriteUInt16(offset);
        var r = Execute(c).ParameterReader();
        return r.ReadSized().ToArray();
    }

    /// <summary>Reads the whole index (size from NV_ReadPublic) in <see cref="NvBufferSize"/> chunks.</summary>
    public byte[] NvReadAll(uint nvIndex, uint? authHandle = null, TpmAuthorization? auth = null)
    {
        var (pub, _) = NvReadPublic(nvIndex);
        var data = new byte[pub.DataSize];
        for (int offset = 0; offset < data.Length; offset += NvBufferSize)
        {
            int n = Math.Min(NvBufferSize, data.Length - offset);
            byte[] chunk = NvRead(nvIndex, (ushort)n, (ushort)offset, authHandle, auth);
            if (chunk.Length != n)
                throw new TpmFormatException($"NV_Read returned {chunk.Length} bytes, asked for {n}.");
            chunk.CopyTo(data, offset);
        }

        return data;
    }

    /// <summary>TPM2_NV_ReadPublic (Part 3 §31.6).</summary>
    public (TpmsNvPublic Public, byte[] Name) NvReadPublic(uint nvIndex)
    {
        var r = Execute(new TpmCommandBuilder(TpmCc.NV_ReadPublic).Handle(nvIndex)).ParameterReader();
        var pub = TpmsNvPublic.ReadSized(ref r);
        return (pub, r.ReadSized().ToArray());
    }

    /// <summary>TPM2_NV_ReadLock (Part 3 §31.14): blocks reads until the next TPM Reset/Restart (needs TPMA_NV_READ_STCLEAR).</summary>
    public void NvReadLock(uint nvIndex, uint? authHandle = null, TpmAuthorization? auth = null) =>
        Execute(new TpmCommandBuilder(TpmCc.NV_ReadLock).Handle(authHandle ?? nvIndex, auth ?? TpmAuthorization.EmptyPassword).Handle(nvIndex));

    /// <summary>TPM2_NV_WriteLock (Part 3 §31.10): needs TPMA_NV_WRITEDEFINE (permanent) or WRITE_STCLEAR.</summary>
    public void NvWriteLock(uint nvIndex, uint? authHandle = null, TpmAuthorization? auth = null) =>
        Execute(new TpmCommandBuilder(TpmCc.NV_WriteLock).Handle(authHandle ?? nvIndex, auth ?? TpmAuthorization.EmptyPassword).Handle(nvIndex));
}
