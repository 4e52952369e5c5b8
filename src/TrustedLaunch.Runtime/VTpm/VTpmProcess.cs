using System.Buffers.Binary;
using System.Net.Sockets;
using TrustedLaunch.HostSystem.Processes;
using TrustedLaunch.Runtime.Processes;

namespace TrustedLaunch.Runtime.VTpm;

/// <summary>
/// A running vTPM: a swtpm-compatible program serving the control protocol on a Unix socket that QEMU's
/// <c>-tpmdev emulator</c> connects to. Ready means the socket answers CMD_GET_CAPABILITY with every capability QEMU
/// requires (vtpm.md §2.5), not merely that the file exists.
/// </summary>
public sealed class VTpmProcess : IAsyncDisposable
{
    // vtpm.md §2.2: PTM_CAP_INIT|SHUTDOWN|GET_TPMESTABLISHED|SET_LOCALITY|RESET_TPMESTABLISHED|SET_DATAFD|STOP|SET_BUFFERSIZE.
    internal const ulong CapabilitiesQemuRequires = 0x1 | 0x2 | 0x4 | 0x8 | 0x80 | 0x1000 | 0x400 | 0x2000;
    private const uint CmdGetCapability = 0x01;
    private const uint CmdGetStateBlob = 0x0C;

    /// <summary>tl-vtpm's exit code for a state it refuses to open (docs/vtpm.md); it never manufactures a replacement.</summary>
    internal const int StateRefusedExitCode = 4;

    /// <summary>What tl-vtpm writes before the reason when it refuses its state (a detached process's exit code is unknown).</summary>
    internal const string StateRefusedMarker = "tl-vtpm: state refused: ";

    private VTpmProcess(ISupervisedProcess process, string controlSocket, ulong capabilities)
    {
        Process = process;
        ControlSocket = controlSocket;
        Capabilities = capabilities;
    }

    /// <summary>The vTPM process: a child of ours, or a detached one (a VM that outlives its supervisor).</summary>
    public ISupervisedProcess Process { get; }

    public string ControlSocket { get; }

    /// <summary>The PTM_CAP_* bits the vTPM reported.</summary>
    public ulong Capabilities { get; }

    /// <summary>The argument list for <paramref name="options"/> (swtpm <c>socket</c> syntax, vtpm.md §5.1).</summary>
    public static IReadOnlyList<string> BuildArguments(VTpmOptions options, string controlSocket, string runDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        var args = new List<string> { "socket", "--tpm2", "--ctrl", $"type=unixio,path={controlSocket}" };
        switch (options.Flavor)
        {
            case VTpmFlavor.TlVtpm when options.VmgsPath is not null:
                if (options.KekPath is null || options.StatePath is not null)
                    throw new VmRuntimeException(VmRuntimeFailure.BadInput, "tl-vtpm on a VMGS needs its key-encryption key and no separate state file.");
                args.AddRange(["--vmgs", options.VmgsPath, "--kek-file", options.KekPath]);
                break;
            case VTpmFlavor.TlVtpm:
                if (options.StatePath is null || options.KeyPath is null)
                    throw new VmRuntimeException(VmRuntimeFailure.BadInput, "tl-vtpm needs a state file and its key file.");
                args.AddRange(["--state", options.StatePath, "--key-file", options.KeyPath]);
                break;
            case VTpmFlavor.Swtpm:
                if (options.VmgsPath is not null)
                    throw new VmRuntimeException(VmRuntimeFailure.BadInput, "swtpm cannot keep its state in a VMGS; use tl-vtpm.");
                if (options.StatePath is null)
                {
                    string stateDirectory = Path.Combine(runDirectory, "tpm");
                    Directory.CreateDirectory(stateDirectory);
                    args.AddRange(["--tpmstate", $"dir={stateDirectory}"]);
                }
                else
                {
                    args.AddRange(["--tpmstate", $"backend-uri=file://{Path.GetFullPath(options.StatePath)}"]);
                }

                break;
            default:
                throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"Unknown vTPM flavor {options.Flavor}.");
        }

        args.AddRange(["--log", $"file={Path.Combine(runDirectory, "vtpm.log")},level=1"]);
        return args;
    }

    /// <summary>Starts the vTPM and waits until its control socket answers.</summary>
    /// <param name="detached">Start it as a <see cref="DetachedProcess"/> that outlives this process (a supervised VM).</param>
    public static async Task<VTpmProcess> StartAsync(VTpmOptions options, string runDirectory, CancellationToken cancellationToken, bool detached = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        string program = RuntimePrograms.Require(options.Program, options.Flavor == VTpmFlavor.Swtpm ? "swtpm" : "trustedlaunch (tl-vtpm)");
        string controlSocket = Path.Combine(runDirectory, "vtpm.ctrl");
        string log = Path.Combine(runDirectory, "vtpm.stdout.log");
        IReadOnlyList<string> arguments = BuildArguments(options, controlSocket, runDirectory);
        ISupervisedProcess process = detached ? RuntimePrograms.StartDetached(program, arguments, log) : RuntimePrograms.Start(program, arguments, log);
        try
        {
            ulong caps = await WaitUntilReadyAsync(process, controlSocket, options.ReadyTimeout, cancellationToken).ConfigureAwait(false);
            if ((caps & CapabilitiesQemuRequires) != CapabilitiesQemuRequires)
            {
                throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed,
                    $"{process.DisplayName} lacks control-protocol capabilities QEMU needs (has 0x{caps:X}, needs 0x{CapabilitiesQemuRequires:X}).");
            }

            return new VTpmProcess(process, controlSocket, caps);
        }
        catch
        {
            await process.StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            process.Dispose();
            throw;
        }
    }

    /// <summary>The vTPM of a VM a previous supervisor started (detached); it may have exited since.</summary>
    public static VTpmProcess Adopt(ProcessIdentity identity, string runDirectory) =>
        new(DetachedProcess.Adopt(identity, "tl-vtpm", Path.Combine(runDirectory, "vtpm.stdout.log")), Path.Combine(runDirectory, "vtpm.ctrl"), CapabilitiesQemuRequires);

    /// <summary>Sends PTM_GET_CAPABILITY on a fresh control connection and returns the capability bits.</summary>
    internal static async Task<ulong> GetCapabilitiesAsync(string controlSocket, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(controlSocket), cancellationToken).ConfigureAwait(false);
        byte[] request = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(request, CmdGetCapability);
        await socket.SendAsync(request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        byte[] response = new byte[8];
        int read = 0;
        while (read < response.Length)
        {
            int n = await socket.ReceiveAsync(response.AsMemory(read), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
                throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed, "The vTPM closed its control socket before answering GET_CAPABILITY.");
            read += n;
        }

        // vtpm.md §2.2: the response is ptm_res (0) then the caps word; QEMU reads both as one big-endian u64.
        return BinaryPrimitives.ReadUInt64BigEndian(response);
    }

    /// <summary>
    /// Returns once the vTPM is between commands: PTM_GET_STATEBLOB (permanent) on a fresh control connection. tl-vtpm answers it
    /// under the same lock as a data-channel command, whose NV writes are stored before its response (write-through), so when
    /// the answer comes no command runs and no write of its state is half done. With the guest paused, none starts after it.
    /// </summary>
    public async Task WaitBetweenCommandsAsync(CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(ControlSocket), cancellationToken).ConfigureAwait(false);
        byte[] request = new byte[16]; // command, then ptm_getstate: state_flags 0, type 1 (permanent), offset 0
        BinaryPrimitives.WriteUInt32BigEndian(request, CmdGetStateBlob);
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(8), 1);
        await socket.SendAsync(request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        byte[] header = new byte[16]; // tpm_result, state_flags, totlength, length
        await ReceiveExactlyAsync(socket, header, cancellationToken).ConfigureAwait(false);
        uint result = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (result != 0)
            throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed, $"The vTPM answered GET_STATEBLOB with result 0x{result:x}.");
        await ReceiveExactlyAsync(socket, new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(12))], cancellationToken).ConfigureAwait(false);
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
                throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed, "The vTPM closed its control socket before answering.");
            read += n;
        }
    }

    private static async Task<ulong> WaitUntilReadyAsync(ISupervisedProcess process, string controlSocket, TimeSpan timeout, CancellationToken cancellationToken)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                int? code = await process.Ended.ConfigureAwait(false);
                string said = process.StandardErrorTail;
                // A detached vTPM's exit code is init's, not ours: its refusal is also told by the words it wrote.
                bool refused = code == StateRefusedExitCode || said.Contains(StateRefusedMarker, StringComparison.Ordinal);
                throw new VmRuntimeException(refused ? VmRuntimeFailure.VTpmStateRefused : VmRuntimeFailure.ComponentFailed,
                    $"{process.DisplayName} exited{ExitText(code)} before it was ready: {said}");
            }

            if (File.Exists(controlSocket))
            {
                try
                {
                    return await GetCapabilitiesAsync(controlSocket, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException e)
                {
                    last = e;
                }
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed,
            $"{process.DisplayName} did not answer on {controlSocket} within {timeout.TotalSeconds:0} s.", last);
    }

    internal static string ExitText(int? code) => code is int c ? $" with code {c}" : "";

    /// <summary>Stops the vTPM: SIGTERM (it saves state and exits), SIGKILL after <paramref name="grace"/>.</summary>
    public Task StopAsync(TimeSpan grace) => Process.StopAsync(grace);

    public async ValueTask DisposeAsync()
    {
        await Process.StopAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        Process.Dispose();
    }
}
