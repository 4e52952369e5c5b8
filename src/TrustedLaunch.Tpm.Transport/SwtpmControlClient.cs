using System.Net;
using System.Net.Sockets;
using System.Text;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Protocol.Swtpm;

namespace TrustedLaunch.Tpm.Transport;

/// <summary>
/// Client of swtpm's control channel (<c>--ctrl type=tcp|unixio</c>; tpm_ioctl.h, vtpm.md §2.2). Each command opens
/// its own connection, because swtpm serves one control client at a time and a held connection would block
/// tpm2-tss and QEMU. Failures surface as <see cref="SwtpmControlException"/> with the TPM 1.2-style result.
/// </summary>
public sealed class SwtpmControlClient
{
    private readonly EndPoint _endPoint;
    private readonly TimeSpan _timeout;

    public SwtpmControlClient(EndPoint endPoint, TimeSpan? timeout = null)
    {
        _endPoint = endPoint ?? throw new ArgumentNullException(nameof(endPoint));
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
    }

    public static SwtpmControlClient Tcp(string host, int port) => new(SwtpmSocketTransport.ResolveEndPoint(host, port));

    public static SwtpmControlClient Unix(string path) => new(new UnixDomainSocketEndPoint(path));

    /// <summary>Sends one request and returns the decoded response, whatever its result.</summary>
    public SwtpmControlResponse Send(SwtpmControlRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var channel = SocketChannel.Connect(_endPoint, _timeout);
        channel.Send(request.Encode());
        var buffer = new byte[16];
        int have = 0;
        while (true)
        {
            int need = SwtpmControlResponse.ExpectedLength(request.Command, buffer.AsSpan(0, have));
            if (need <= have)
                break;
            if (need > buffer.Length)
                Array.Resize(ref buffer, need);
            channel.ReceiveExactly(buffer.AsSpan(have, need - have));
            have = need;
        }

        return SwtpmControlResponse.Decode(request.Command, buffer.AsSpan(0, have));
    }

    /// <summary>Sends and throws unless the result is success.</summary>
    public SwtpmControlResponse SendChecked(SwtpmControlRequest request)
    {
        var response = Send(request);
        return response.IsSuccess ? response : throw new SwtpmControlException(request.Command, response.Result);
    }

    public SwtpmCapabilities GetCapabilities() => Send(new(SwtpmControlCommand.GetCapability)).Capabilities;

    public void Init(SwtpmInitOptions options = SwtpmInitOptions.None) =>
        SendChecked(new(SwtpmControlCommand.Init) { InitFlags = options });

    /// <summary>CMD_SHUTDOWN: swtpm shuts the TPM down and the process exits.</summary>
    public void Shutdown() => SendChecked(new(SwtpmControlCommand.Shutdown));

    /// <summary>CMD_STOP: the TPM stops (state blobs may then be set); the process stays.</summary>
    public void Stop() => SendChecked(new(SwtpmControlCommand.Stop));

    public void SetLocality(byte locality) => SendChecked(new(SwtpmControlCommand.SetLocality) { Locality = locality });

    public bool GetTpmEstablished() => SendChecked(new(SwtpmControlCommand.GetTpmEstablished)).TpmEstablished;

    public void ResetTpmEstablished(byte locality) =>
        SendChecked(new(SwtpmControlCommand.ResetTpmEstablished) { Locality = locality });

    public void HashStart() => SendChecked(new(SwtpmControlCommand.HashStart));

    public void HashData(ReadOnlySpan<byte> data) => SendChecked(new(SwtpmControlCommand.HashData) { Data = data.ToArray() });

    public void HashEnd() => SendChecked(new(SwtpmControlCommand.HashEnd));

    public void CancelTpmCommand() => SendChecked(new(SwtpmControlCommand.CancelTpmCommand));

    public void StoreVolatile() => SendChecked(new(SwtpmControlCommand.StoreVolatile));

    public uint GetConfig() => SendChecked(new(SwtpmControlCommand.GetConfig)).ConfigFlags;

    /// <summary>CMD_SET_BUFFERSIZE; 0 queries. Returns (current, min, max).</summary>
    public (uint BufferSize, uint MinSize, uint MaxSize) SetBufferSize(uint size)
    {
        var r = SendChecked(new(SwtpmControlCommand.SetBufferSize) { Value = size });
        return (r.BufferSize, r.MinSize, r.MaxSize);
    }

    /// <summary>CMD_GET_STATEBLOB, following offsets until the whole blob is in.</summary>
    public (byte[] Blob, SwtpmStateBlobOptions Flags) GetStateBlob(SwtpmStateBlobType type, bool decrypted = true)
    {
        using var all = new MemoryStream();
        SwtpmStateBlobOptions flags = SwtpmStateBlobOptions.None;
        while (true)
        {
            var r = SendChecked(new(SwtpmControlCommand.GetStateBlob)
            {
                BlobType = type, StateFlags = decrypted ? SwtpmStateBlobOptions.Decrypted : SwtpmStateBlobOptions.None, Offset = (uint)all.Length,
            });
            flags = r.StateFlags;
            all.Write(r.Data);
            if (r.Data.Length == 0 || r.Data.Length >= r.TotalLength)
                return (all.ToArray(), flags);
        }
    }

    /// <summary>CMD_SET_STATEBLOB (the TPM must be stopped).</summary>
    public void SetStateBlob(SwtpmStateBlobType type, ReadOnlySpan<byte> blob, bool encrypted = false) =>
        SendChecked(new(SwtpmControlCommand.SetStateBlob)
        {
            BlobType = type, StateFlags = encrypted ? SwtpmStateBlobOptions.Encrypted : SwtpmStateBlobOptions.None, Data = blob.ToArray(),
        });

    /// <summary>CMD_GET_INFO: the JSON document libtpms reports, gathered across offsets.</summary>
    public string GetInfo(SwtpmInfoSelectors selectors)
    {
        using var all = new MemoryStream();
        while (true)
        {
            var r = SendChecked(new(SwtpmControlCommand.GetInfo) { InfoFlags = selectors, Offset = (uint)all.Length });
            all.Write(r.Data);
            if (r.Data.Length == 0 || all.Length >= r.TotalLength)
                break;
        }

        return Encoding.UTF8.GetString(all.ToArray()).TrimEnd('\0');
    }
}

/// <summary>A swtpm control command returned a non-zero result.</summary>
public sealed class SwtpmControlException : Exception
{
    public SwtpmControlException() { }

    public SwtpmControlException(string message) : base(message) { }

    public SwtpmControlException(string message, Exception innerException) : base(message, innerException) { }

    public SwtpmControlException(SwtpmControlCommand command, uint result)
        : base($"swtpm control command {command} failed: {new TpmRc(result).Name} (0x{result:X})")
    {
        Command = command;
        Result = result;
    }

    public SwtpmControlCommand Command { get; }

    public uint Result { get; }
}
