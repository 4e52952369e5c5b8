using TrustedLaunch.Tpm.Protocol.Swtpm;
using System.Buffers.Binary;
using System.Text;
using TrustedLaunch.VTpm.Engine;

namespace TrustedLaunch.VTpm.Device;

/// <summary>What the transport must do after sending a control response.</summary>
public enum ControlFollowUp
{
    None,
    /// <summary>CMD_SHUTDOWN: the process ends once the response is out.</summary>
    ExitProcess,
}

/// <summary>
/// The server side of the swtpm control channel as a pure state machine over byte messages: request =
/// u32be command code + body, response = the <c>resp</c> half of the <c>ptm_*</c> union, big-endian
/// (vtpm.md §2.1–2.3). Sockets and SCM_RIGHTS live in the host; this class only sees bytes and an fd number.
/// </summary>
public sealed class SwtpmControlServer
{
    /// <summary>Largest SET_STATEBLOB/HASH_DATA body accepted (swtpm: 512 KiB state blobs).</summary>
    public const int MaxBodyLength = 512 * 1024;

    /// <summary>Every command this server implements (swtpm 0.7.1 answers 0xffff; we add LOCK_STORAGE).</summary>
    public const SwtpmCapabilities Capabilities =
        SwtpmCapabilities.Init | SwtpmCapabilities.Shutdown | SwtpmCapabilities.GetTpmEstablished | SwtpmCapabilities.SetLocality |
        SwtpmCapabilities.Hashing | SwtpmCapabilities.CancelTpmCommand | SwtpmCapabilities.StoreVolatile |
        SwtpmCapabilities.ResetTpmEstablished | SwtpmCapabilities.GetStateBlob | SwtpmCapabilities.SetStateBlob |
        SwtpmCapabilities.Stop | SwtpmCapabilities.GetConfig | SwtpmCapabilities.SetDataFd | SwtpmCapabilities.SetBufferSize |
        SwtpmCapabilities.GetInfo | SwtpmCapabilities.SendCommandHeader | SwtpmCapabilities.LockStorage;

    private const uint InitFlagDeleteVolatile = 1; // PTM_INIT_FLAG_DELETE_VOLATILE
    private const uint StateFlagEncrypted = 2; // PTM_STATE_FLAG_ENCRYPTED
    private const uint ConfigFlagFileKey = 1; // PTM_CONFIG_FLAG_FILE_KEY

    private readonly VTpmDevice _device;

    public SwtpmControlServer(VTpmDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
    }

    /// <summary>Attaches a data-channel fd received with CMD_SET_DATAFD; returns a libtpms result code.</summary>
    public Func<int, uint>? AttachDataFd { get; set; }

    /// <summary>
    /// How many bytes the request starting in <paramref name="buffered"/> occupies, once enough of it is there
    /// to tell; false while more bytes are needed. Unknown commands are 4 bytes (answered TPM_BAD_ORDINAL).
    /// </summary>
    public static bool TryGetRequestLength(ReadOnlySpan<byte> buffered, out int length)
    {
        length = 0;
        if (buffered.Length < 4)
            return false;
        var command = (SwtpmControlCommand)BinaryPrimitives.ReadUInt32BigEndian(buffered);
        int fixedBody = command switch
        {
            SwtpmControlCommand.Init or SwtpmControlCommand.SetBufferSize or SwtpmControlCommand.LockStorage => 4,
            SwtpmControlCommand.SetLocality or SwtpmControlCommand.ResetTpmEstablished => 1,
            SwtpmControlCommand.GetStateBlob => 12,
            SwtpmControlCommand.GetInfo => 16,
            SwtpmControlCommand.HashData => 4, // u32 length, then the data
            SwtpmControlCommand.SetStateBlob => 12, // flags, type, u32 length, then the blob
            _ => 0,
        };
        if (buffered.Length < 4 + fixedBody)
            return false;
        int variable = command switch
        {
            SwtpmControlCommand.HashData => ClampBody(BinaryPrimitives.ReadUInt32BigEndian(buffered[4..])),
            SwtpmControlCommand.SetStateBlob => ClampBody(BinaryPrimitives.ReadUInt32BigEndian(buffered[12..])),
            _ => 0,
        };
        length = 4 + fixedBody + variable;
        return buffered.Length >= length;
    }

    // An oversized length is answered with TPM_BAD_PARAMETER after reading only the header.
    private static int ClampBody(uint length) => length > MaxBodyLength ? 0 : (int)length;

    /// <summary>Handles one complete request (as delimited by <see cref="TryGetRequestLength"/>).</summary>
    /// <param name="receivedFd">An fd that arrived with the request (SCM_RIGHTS), or -1.</param>
    public byte[] Handle(ReadOnlySpan<byte> request, int receivedFd, out ControlFollowUp followUp)
    {
        followUp = ControlFollowUp.None;
        if (request.Length < 4)
            return Result(LibTpmsResult.BadParameter);
        var command = (SwtpmControlCommand)BinaryPrimitives.ReadUInt32BigEndian(request);
        ReadOnlySpan<byte> body = request[4..];
        switch (command)
        {
            case SwtpmControlCommand.GetCapability:
                return Words(LibTpmsResult.Success, (uint)Capabilities);
            case SwtpmControlCommand.Init:
                if (body.Length < 4)
                    return Result(LibTpmsResult.BadParameter);
                return Result(_device.Init((BinaryPrimitives.ReadUInt32BigEndian(body) & InitFlagDeleteVolatile) != 0));
            case SwtpmControlCommand.Shutdown:
                _device.Stop();
                followUp = ControlFollowUp.ExitProcess;
                return Result(LibTpmsResult.Success);
            case SwtpmControlCommand.Stop:
                _device.Stop();
                return Result(LibTpmsResult.Success);
            case SwtpmControlCommand.GetTpmEstablished:
            {
                if (!_device.IsRunning)
                    return Result(LibTpmsResult.BadOrdinal);
                uint rc = _device.Engine.GetEstablished(out bool established);
                var response = new byte[8];
                BinaryPrimitives.WriteUInt32BigEndian(response, rc);
                response[4] = established ? (byte)1 : (byte)0; // u8 bit + 3 bytes padding
                return response;
            }

            case SwtpmControlCommand.SetLocality:
                return body.Length < 1 ? Result(LibTpmsResult.BadParameter) : Result(_device.SetLocality(body[0]));
            case SwtpmControlCommand.ResetTpmEstablished:
                if (body.Length < 1)
                    return Result(LibTpmsResult.BadParameter);
                if (!_device.IsRunning)
                    return Result(LibTpmsResult.BadOrdinal);
                return body[0] > 4 ? Result(LibTpmsResult.BadLocality) : Result(_device.Engine.ResetEstablished(body[0]));
            case SwtpmControlCommand.HashStart:
                return _device.IsRunning ? Result(_device.Engine.HashStart()) : Result(LibTpmsResult.BadOrdinal);
            case SwtpmControlCommand.HashData:
                return HashData(body);
            case SwtpmControlCommand.HashEnd:
                return _device.IsRunning ? Result(_device.Engine.HashEnd()) : Result(LibTpmsResult.BadOrdinal);
            case SwtpmControlCommand.CancelTpmCommand:
                return Result(LibTpmsEngine.Cancel());
            case SwtpmControlCommand.StoreVolatile:
                if (!_device.IsRunning)
                    return Result(LibTpmsResult.BadOrdinal);
                return Guarded(() => _device.Engine.StoreVolatile());
            case SwtpmControlCommand.GetStateBlob:
                return GetStateBlob(body);
            case SwtpmControlCommand.SetStateBlob:
                return SetStateBlob(body);
            case SwtpmControlCommand.GetConfig:
                return Words(LibTpmsResult.Success, ConfigFlagFileKey); // state at rest is always sealed with the key file
            case SwtpmControlCommand.SetDataFd:
                if (receivedFd < 0 || AttachDataFd is null)
                    return Result(LibTpmsResult.BadParameter);
                return Result(AttachDataFd(receivedFd));
            case SwtpmControlCommand.SetBufferSize:
                return SetBufferSize(body);
            case SwtpmControlCommand.GetInfo:
                return GetInfo(body);
            case SwtpmControlCommand.LockStorage:
                return Result(LibTpmsResult.Success); // one process owns the state for its whole life: always locked
            default:
                return Result(LibTpmsResult.BadOrdinal);
        }
    }

    private byte[] HashData(ReadOnlySpan<byte> body)
    {
        if (body.Length < 4)
            return Result(LibTpmsResult.BadParameter);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(body);
        if (length > MaxBodyLength || body.Length - 4 < length)
            return Result(LibTpmsResult.BadParameter);
        if (!_device.IsRunning)
            return Result(LibTpmsResult.BadOrdinal);
        return Result(_device.Engine.HashData(body.Slice(4, (int)length)));
    }

    private byte[] GetStateBlob(ReadOnlySpan<byte> body)
    {
        if (body.Length < 12)
            return Result(LibTpmsResult.BadParameter);
        uint type = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        uint offset = BinaryPrimitives.ReadUInt32BigEndian(body[8..]);
        LibTpmsStateType? stateType = BlobType(type);
        if (stateType is null)
            return Result(LibTpmsResult.BadParameter);
        byte[] blob;
        try
        {
            blob = _device.Engine.GetState(stateType.Value);
        }
        catch (LibTpmsException e)
        {
            return Result(e.Result == 0 ? LibTpmsResult.Fail : e.Result);
        }

        int start = (int)Math.Min(offset, (uint)blob.Length);
        var response = new byte[16 + blob.Length - start];
        BinaryPrimitives.WriteUInt32BigEndian(response, LibTpmsResult.Success);
        BinaryPrimitives.WriteUInt32BigEndian(response.AsSpan(4), 0); // blobs leave decrypted; the file key protects only rest
        BinaryPrimitives.WriteUInt32BigEndian(response.AsSpan(8), (uint)blob.Length);
        BinaryPrimitives.WriteUInt32BigEndian(response.AsSpan(12), (uint)(blob.Length - start));
        blob.AsSpan(start).CopyTo(response.AsSpan(16));
        return response;
    }

    private byte[] SetStateBlob(ReadOnlySpan<byte> body)
    {
        if (body.Length < 12)
            return Result(LibTpmsResult.BadParameter);
        uint flags = BinaryPrimitives.ReadUInt32BigEndian(body);
        uint type = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(body[8..]);
        if (length > MaxBodyLength || body.Length - 12 < length)
            return Result(LibTpmsResult.BadParameter);
        if (_device.IsRunning)
            return Result(LibTpmsResult.BadOrdinal);
        if ((flags & StateFlagEncrypted) != 0)
            return Result(LibTpmsResult.BadParameter); // we never hand out encrypted blobs, so none can come back
        LibTpmsStateType? stateType = BlobType(type);
        if (stateType is null)
            return Result(LibTpmsResult.BadParameter);
        if (stateType == LibTpmsStateType.SaveState)
            return Result(length == 0 ? LibTpmsResult.Success : LibTpmsResult.BadParameter); // TPM 1.2 only
        byte[] blob = body.Slice(12, (int)length).ToArray();
        return Guarded(() => _device.Engine.SetState(stateType.Value, blob));
    }

    private byte[] SetBufferSize(ReadOnlySpan<byte> body)
    {
        if (body.Length < 4)
            return Result(LibTpmsResult.BadParameter);
        uint wanted = BinaryPrimitives.ReadUInt32BigEndian(body);
        if (wanted != 0 && _device.IsRunning)
            return Words(LibTpmsResult.BadOrdinal, 0, 0, 0);
        (uint size, uint min, uint max) = _device.Engine.SetBufferSize(wanted);
        return Words(LibTpmsResult.Success, size, min, max);
    }

    private byte[] GetInfo(ReadOnlySpan<byte> body)
    {
        if (body.Length < 16)
            return Result(LibTpmsResult.BadParameter);
        ulong flags = BinaryPrimitives.ReadUInt64BigEndian(body);
        uint offset = BinaryPrimitives.ReadUInt32BigEndian(body[8..]);
        byte[] json = [.. Encoding.UTF8.GetBytes(_device.Engine.GetInfo((uint)(flags & 0x7))), 0]; // NUL-terminated
        int start = (int)Math.Min(offset, (uint)json.Length);
        var response = new byte[12 + json.Length - start];
        BinaryPrimitives.WriteUInt32BigEndian(response, LibTpmsResult.Success);
        BinaryPrimitives.WriteUInt32BigEndian(response.AsSpan(4), (uint)json.Length);
        BinaryPrimitives.WriteUInt32BigEndian(response.AsSpan(8), (uint)(json.Length - start));
        json.AsSpan(start).CopyTo(response.AsSpan(12));
        return response;
    }

    // ptm blob types: 1 permanent, 2 volatile, 3 savestate (not libtpms' bit values).
    private static LibTpmsStateType? BlobType(uint type) => type switch
    {
        1 => LibTpmsStateType.Permanent,
        2 => LibTpmsStateType.Volatile,
        3 => LibTpmsStateType.SaveState,
        _ => null,
    };

    private static byte[] Guarded(Action action)
    {
        try
        {
            action();
            return Result(LibTpmsResult.Success);
        }
        catch (LibTpmsException e)
        {
            return Result(e.Result == 0 ? LibTpmsResult.Fail : e.Result);
        }
        catch (State.VTpmStateException)
        {
            return Result(LibTpmsResult.IoError);
        }
    }

    private static byte[] Result(uint result) => Words(result);

    private static byte[] Words(params ReadOnlySpan<uint> words)
    {
        var response = new byte[words.Length * 4];
        for (int i = 0; i < words.Length; i++)
            BinaryPrimitives.WriteUInt32BigEndian(response.AsSpan(i * 4), words[i]);
        return response;
    }
}
