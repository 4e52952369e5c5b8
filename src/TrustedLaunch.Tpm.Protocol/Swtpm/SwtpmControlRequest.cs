namespace TrustedLaunch.Tpm.Protocol.Swtpm;

/// <summary>
/// One control-channel request: code plus the request fields of its <c>ptm_*</c> structure, all big-endian
/// (tpm_ioctl.h; vtpm.md §2.2). Encoded by clients, decoded by servers.
/// </summary>
public sealed record SwtpmControlRequest(SwtpmControlCommand Command)
{
    /// <summary>CMD_INIT init_flags.</summary>
    public SwtpmInitOptions InitFlags { get; init; }

    /// <summary>CMD_SET_LOCALITY / CMD_RESET_TPMESTABLISHED locality (0–4).</summary>
    public byte Locality { get; init; }

    /// <summary>CMD_GET_STATEBLOB / CMD_SET_STATEBLOB state_flags.</summary>
    public SwtpmStateBlobOptions StateFlags { get; init; }

    /// <summary>CMD_GET_STATEBLOB / CMD_SET_STATEBLOB blob type.</summary>
    public SwtpmStateBlobType BlobType { get; init; }

    /// <summary>CMD_GET_STATEBLOB / CMD_GET_INFO offset.</summary>
    public uint Offset { get; init; }

    /// <summary>CMD_SET_BUFFERSIZE buffersize (0 queries); CMD_LOCK_STORAGE retries.</summary>
    public uint Value { get; init; }

    /// <summary>CMD_GET_INFO flags.</summary>
    public SwtpmInfoSelectors InfoFlags { get; init; }

    /// <summary>CMD_HASH_DATA / CMD_SET_STATEBLOB payload.</summary>
    public byte[] Data { get; init; } = [];

    /// <summary>Largest SET_STATEBLOB payload accepted from a peer (swtpm caps state blobs well below this).</summary>
    public const int MaxBlobSize = 4 * 1024 * 1024;

    public byte[] Encode()
    {
        var w = new TpmWriter(16 + Data.Length);
        w.WriteUInt32((uint)Command);
        switch (Command)
        {
            case SwtpmControlCommand.Init:
                w.WriteUInt32((uint)InitFlags);
                break;
            case SwtpmControlCommand.SetLocality or SwtpmControlCommand.ResetTpmEstablished:
                w.WriteByte(Locality);
                break;
            case SwtpmControlCommand.HashData:
                w.WriteUInt32((uint)Data.Length);
                w.WriteBytes(Data);
                break;
            case SwtpmControlCommand.GetStateBlob:
                w.WriteUInt32((uint)StateFlags);
                w.WriteUInt32((uint)BlobType);
                w.WriteUInt32(Offset);
                break;
            case SwtpmControlCommand.SetStateBlob:
                w.WriteUInt32((uint)StateFlags);
                w.WriteUInt32((uint)BlobType);
                w.WriteUInt32((uint)Data.Length);
                w.WriteBytes(Data);
                break;
            case SwtpmControlCommand.SetBufferSize or SwtpmControlCommand.LockStorage:
                w.WriteUInt32(Value);
                break;
            case SwtpmControlCommand.GetInfo:
                w.WriteUInt64((ulong)InfoFlags);
                w.WriteUInt32(Offset);
                w.WriteUInt32(0); // pad
                break;
            default:
                break; // commands without a request body
        }

        return w.ToArray();
    }

    /// <summary>
    /// Bytes of fixed request body after the 4-byte code. A server reads these first, then
    /// <see cref="VariableBodyLength"/> more for HASH_DATA and SET_STATEBLOB.
    /// </summary>
    public static int FixedBodyLength(SwtpmControlCommand command) => command switch
    {
        SwtpmControlCommand.Init => 4,
        SwtpmControlCommand.SetLocality or SwtpmControlCommand.ResetTpmEstablished => 1,
        SwtpmControlCommand.HashData => 4,
        SwtpmControlCommand.GetStateBlob => 12,
        SwtpmControlCommand.SetStateBlob => 12,
        SwtpmControlCommand.SetBufferSize or SwtpmControlCommand.LockStorage => 4,
        SwtpmControlCommand.GetInfo => 16,
        _ => 0,
    };

    /// <summary>Length of the payload that follows the fixed body (from its length field), or 0.</summary>
    public static int VariableBodyLength(SwtpmControlCommand command, ReadOnlySpan<byte> fixedBody)
    {
        var r = new TpmReader(fixedBody);
        uint length = command switch
        {
            SwtpmControlCommand.HashData => r.ReadUInt32(),
            SwtpmControlCommand.SetStateBlob => ReadThird(ref r),
            _ => 0,
        };
        if (length > MaxBlobSize)
            throw new TpmFormatException($"Control request {command} announces {length} bytes, more than {MaxBlobSize}.");
        return (int)length;
    }

    private static uint ReadThird(ref TpmReader r)
    {
        r.ReadUInt32();
        r.ReadUInt32();
        return r.ReadUInt32();
    }

    /// <summary>Decodes a complete request (code, fixed body, payload) as received by a server.</summary>
    public static SwtpmControlRequest Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new TpmReader(bytes);
        var cmd = (SwtpmControlCommand)r.ReadUInt32();
        SwtpmControlRequest request = cmd switch
        {
            SwtpmControlCommand.Init => new(cmd) { InitFlags = (SwtpmInitOptions)r.ReadUInt32() },
            SwtpmControlCommand.SetLocality or SwtpmControlCommand.ResetTpmEstablished => new(cmd) { Locality = r.ReadByte() },
            SwtpmControlCommand.HashData => new(cmd) { Data = r.ReadBytes(CheckedLength(r.ReadUInt32())).ToArray() },
            SwtpmControlCommand.GetStateBlob => new(cmd)
            {
                StateFlags = (SwtpmStateBlobOptions)r.ReadUInt32(), BlobType = (SwtpmStateBlobType)r.ReadUInt32(), Offset = r.ReadUInt32(),
            },
            SwtpmControlCommand.SetStateBlob => new(cmd)
            {
                StateFlags = (SwtpmStateBlobOptions)r.ReadUInt32(), BlobType = (SwtpmStateBlobType)r.ReadUInt32(),
                Data = r.ReadBytes(CheckedLength(r.ReadUInt32())).ToArray(),
            },
            SwtpmControlCommand.SetBufferSize or SwtpmControlCommand.LockStorage => new(cmd) { Value = r.ReadUInt32() },
            SwtpmControlCommand.GetInfo => new(cmd) { InfoFlags = (SwtpmInfoSelectors)r.ReadUInt64(), Offset = ReadOffsetAndPad(ref r) },
            _ => new(cmd),
        };
        r.ExpectEnd($"control request {cmd}");
        return request;
    }

    private static uint ReadOffsetAndPad(ref TpmReader r)
    {
        uint offset = r.ReadUInt32();
        r.ReadUInt32();
        return offset;
    }

    private static int CheckedLength(uint length) =>
        length <= MaxBlobSize ? (int)length : throw new TpmFormatException($"Control payload of {length} bytes exceeds {MaxBlobSize}.");
}
