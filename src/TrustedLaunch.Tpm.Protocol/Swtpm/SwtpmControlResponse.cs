using System.Buffers.Binary;

namespace TrustedLaunch.Tpm.Protocol.Swtpm;

/// <summary>
/// One control-channel response: the response half of the command's <c>ptm_*</c> union, big-endian (tpm_ioctl.h).
/// Every response except GET_CAPABILITY starts with a UINT32 result; swtpm answers a failed command with only that
/// result (ctrlchannel.c <c>err_*</c> paths), except GET_STATEBLOB, whose 16-byte header is always sent.
/// </summary>
public sealed record SwtpmControlResponse(SwtpmControlCommand Command, uint Result = SwtpmResult.Success)
{
    public SwtpmCapabilities Capabilities { get; init; }
    public bool TpmEstablished { get; init; }
    public SwtpmStateBlobOptions StateFlags { get; init; }
    /// <summary>GET_STATEBLOB / GET_INFO totlength: the full size of what is being fetched in pieces.</summary>
    public uint TotalLength { get; init; }
    /// <summary>GET_STATEBLOB blob bytes, GET_INFO JSON bytes (including its terminating NUL).</summary>
    public byte[] Data { get; init; } = [];
    public uint BufferSize { get; init; }
    public uint MinSize { get; init; }
    public uint MaxSize { get; init; }
    /// <summary>GET_CONFIG flags: 1 file key, 2 migration key.</summary>
    public uint ConfigFlags { get; init; }

    public bool IsSuccess => Result == SwtpmResult.Success;

    /// <summary>Server side: the bytes to send back.</summary>
    public byte[] Encode()
    {
        var w = new TpmWriter(24 + Data.Length);
        if (Command == SwtpmControlCommand.GetCapability)
        {
            w.WriteUInt64((ulong)Capabilities); // ptm_cap is a bare uint64
            return w.ToArray();
        }

        w.WriteUInt32(Result);
        if (!IsSuccess && Command != SwtpmControlCommand.GetStateBlob)
            return w.ToArray();
        switch (Command)
        {
            case SwtpmControlCommand.GetTpmEstablished:
                w.WriteByte(TpmEstablished ? (byte)1 : (byte)0);
                w.WriteBytes([0, 0, 0]);
                break;
            case SwtpmControlCommand.GetStateBlob:
                byte[] payload = IsSuccess ? Data : [];
                w.WriteUInt32((uint)StateFlags);
                w.WriteUInt32(TotalLength);
                w.WriteUInt32((uint)payload.Length);
                w.WriteBytes(payload);
                break;
            case SwtpmControlCommand.GetConfig:
                w.WriteUInt32(ConfigFlags);
                break;
            case SwtpmControlCommand.SetBufferSize:
                w.WriteUInt32(BufferSize);
                w.WriteUInt32(MinSize);
                w.WriteUInt32(MaxSize);
                break;
            case SwtpmControlCommand.GetInfo:
                w.WriteUInt32(TotalLength);
                w.WriteUInt32((uint)Data.Length);
                w.WriteBytes(Data);
                break;
            default:
                break;
        }

        return w.ToArray();
    }

    /// <summary>
    /// Client side: the total response length implied by the bytes received so far. Returns a number larger than
    /// <paramref name="received"/>.Length while more bytes are needed; equal when the response is complete.
    /// </summary>
    public static int ExpectedLength(SwtpmControlCommand command, ReadOnlySpan<byte> received)
    {
        if (command == SwtpmControlCommand.GetCapability)
            return 8;
        if (received.Length < 4)
            return 4;
        if (BinaryPrimitives.ReadUInt32BigEndian(received) != SwtpmResult.Success)
            return 4; // the peer may send a longer error header (GET_STATEBLOB); callers drop the connection after an error
        return command switch
        {
            SwtpmControlCommand.GetTpmEstablished or SwtpmControlCommand.GetConfig => 8,
            SwtpmControlCommand.SetBufferSize => 16,
            SwtpmControlCommand.GetStateBlob => received.Length < 16 ? 16 : 16 + CheckedLength(received[12..16]),
            SwtpmControlCommand.GetInfo => received.Length < 12 ? 12 : 12 + CheckedLength(received[8..12]),
            _ => 4,
        };
    }

    private static int CheckedLength(ReadOnlySpan<byte> field)
    {
        uint length = BinaryPrimitives.ReadUInt32BigEndian(field);
        return length <= SwtpmControlRequest.MaxBlobSize ? (int)length
            : throw new TpmFormatException($"Control response announces {length} bytes, more than {SwtpmControlRequest.MaxBlobSize}.");
    }

    /// <summary>Client side: decodes a complete response to <paramref name="command"/>.</summary>
    public static SwtpmControlResponse Decode(SwtpmControlCommand command, ReadOnlySpan<byte> bytes)
    {
        var r = new TpmReader(bytes);
        if (command == SwtpmControlCommand.GetCapability)
            return new SwtpmControlResponse(command) { Capabilities = (SwtpmCapabilities)r.ReadUInt64() };
        uint result = r.ReadUInt32();
        if (result != SwtpmResult.Success)
            return new SwtpmControlResponse(command, result);
        var response = command switch
        {
            SwtpmControlCommand.GetTpmEstablished => new SwtpmControlResponse(command) { TpmEstablished = (r.ReadBytes(4)[0] & 1) != 0 },
            SwtpmControlCommand.GetConfig => new SwtpmControlResponse(command) { ConfigFlags = r.ReadUInt32() },
            SwtpmControlCommand.SetBufferSize => new SwtpmControlResponse(command)
            {
                BufferSize = r.ReadUInt32(), MinSize = r.ReadUInt32(), MaxSize = r.ReadUInt32(),
            },
            SwtpmControlCommand.GetStateBlob => new SwtpmControlResponse(command)
            {
                StateFlags = (SwtpmStateBlobOptions)r.ReadUInt32(), TotalLength = r.ReadUInt32(), Data = r.ReadBytes(CheckedLength(r.ReadBytes(4))).ToArray(),
            },
            SwtpmControlCommand.GetInfo => new SwtpmControlResponse(command)
            {
                TotalLength = r.ReadUInt32(), Data = r.ReadBytes(CheckedLength(r.ReadBytes(4))).ToArray(),
            },
            _ => new SwtpmControlResponse(command),
        };
        r.ExpectEnd($"control response to {command}");
        return response;
    }
}
