using System.Buffers.Binary;
using System.Net;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

/// <summary>
/// The Microsoft TPM 2.0 reference simulator's TCP protocol (ms-tpm-20-ref <c>TpmTcpProtocol.h</c>; tpm2-tss "mssim"):
/// on the command port a command is <c>TPM_SEND_COMMAND(8) | locality u8 | size u32 | command</c> and the answer
/// <c>size u32 | response | 0 u32</c>; the platform port takes UINT32 signals (power, NV) answered by a UINT32 0.
/// swtpm's data channel accepts the same framing (its SEND_COMMAND_HEADER capability).
/// </summary>
public sealed class MsSimulatorTransport : ITpmTransport
{
    public const uint SignalPowerOn = 1;
    public const uint SignalPowerOff = 2;
    public const uint SignalPhysicalPresenceOn = 3;
    public const uint SignalPhysicalPresenceOff = 4;
    public const uint SendCommand = 8;
    public const uint SignalCancelOn = 9;
    public const uint SignalCancelOff = 10;
    public const uint SignalNvOn = 11;
    public const uint SignalNvOff = 12;
    public const uint SignalReset = 17;
    public const uint SessionEnd = 20;
    public const uint Stop = 21;

    private readonly EndPoint _commandEndPoint;
    private readonly EndPoint? _platformEndPoint;
    private readonly TimeSpan _timeout;
    private SocketChannel? _command;

    public MsSimulatorTransport(EndPoint commandEndPoint, EndPoint? platformEndPoint, TimeSpan? timeout = null)
    {
        _commandEndPoint = commandEndPoint ?? throw new ArgumentNullException(nameof(commandEndPoint));
        _platformEndPoint = platformEndPoint;
        _timeout = timeout ?? TimeSpan.FromSeconds(60);
    }

    /// <summary>The simulator's usual layout: platform port = command port + 1 (default 2321/2322).</summary>
    public static MsSimulatorTransport Tcp(string host = "127.0.0.1", int commandPort = 2321, int? platformPort = null) =>
        new(SwtpmSocketTransport.ResolveEndPoint(host, commandPort), SwtpmSocketTransport.ResolveEndPoint(host, platformPort ?? commandPort + 1));

    /// <summary>The locality every command is sent at (0–4).</summary>
    public byte Locality { get; set; }

    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        var channel = _command ??= SocketChannel.Connect(_commandEndPoint, _timeout);
        try
        {
            Span<byte> header = stackalloc byte[9];
            BinaryPrimitives.WriteUInt32BigEndian(header, SendCommand);
            header[4] = Locality;
            BinaryPrimitives.WriteUInt32BigEndian(header[5..], (uint)command.Length);
            var frame = new byte[9 + command.Length];
            header.CopyTo(frame);
            command.CopyTo(frame.AsSpan(9));
            channel.Send(frame);

            Span<byte> word = stackalloc byte[4];
            channel.ReceiveExactly(word);
            uint size = BinaryPrimitives.ReadUInt32BigEndian(word);
            if (size < TpmResponse.HeaderSize || size > TpmResponseFraming.MaxResponseSize)
                throw new TpmTransportException($"Simulator announces a {size}-byte response; not a TPM 2.0 response.");
            var response = new byte[size];
            channel.ReceiveExactly(response);
            channel.ReceiveExactly(word); // trailing acknowledgement, 0 on success
            uint ack = BinaryPrimitives.ReadUInt32BigEndian(word);
            if (ack != 0)
                throw new TpmTransportException($"Simulator acknowledged the command with {ack}, not 0.");
            return response;
        }
        catch
        {
            channel.Dispose();
            _command = null;
            throw;
        }
    }

    /// <summary>Sends one platform signal (power, NV, cancel, physical presence) and checks the UINT32 0 answer.</summary>
    public void Signal(uint signal)
    {
        if (_platformEndPoint is null)
            throw new InvalidOperationException("No platform port was configured.");
        using var platform = SocketChannel.Connect(_platformEndPoint, _timeout);
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, signal);
        platform.Send(word);
        platform.ReceiveExactly(word);
        uint answer = BinaryPrimitives.ReadUInt32BigEndian(word);
        if (answer != 0)
            throw new TpmTransportException($"Simulator platform signal {signal} answered {answer}.");
    }

    /// <summary>What a freshly started simulator needs before TPM2_Startup: power on, then NV on.</summary>
    public void PowerOn()
    {
        Signal(SignalPowerOn);
        Signal(SignalNvOn);
    }

    public void Dispose()
    {
        if (_command is not null)
        {
            try
            {
                Span<byte> end = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(end, SessionEnd); // tells the simulator this client is done
                _command.Send(end);
            }
            catch (TpmTransportException)
            {
                // The peer may already be gone; ending the session is a courtesy.
            }

            _command.Dispose();
            _command = null;
        }
    }
}
