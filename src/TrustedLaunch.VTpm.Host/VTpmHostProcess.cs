using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using TrustedLaunch.Storage;
using TrustedLaunch.VTpm.Device;
using TrustedLaunch.VTpm.Engine;
using TrustedLaunch.VTpm.Host.Channels;
using TrustedLaunch.VTpm.State;

namespace TrustedLaunch.VTpm.Host;

/// <summary>Exit codes of <c>tl-vtpm</c> (docs/vtpm.md).</summary>
internal enum HostExitCode
{
    Ok = 0,
    RuntimeFailure = 1,
    Usage = 2,
    Environment = 3,
    StateRefused = 4,
}

/// <summary>
/// The composition root: key file + sealed state file (or KEK + VMGS vtpm entry) → <see cref="LibTpmsEngine"/> → <see cref="VTpmDevice"/> →
/// control/data listeners. Refuses to start on any state problem before a socket exists, so a supervisor sees
/// a non-zero exit and the message, never a vTPM with a different identity.
/// </summary>
internal sealed partial class VTpmHostProcess : IDisposable
{
    private readonly HostCommandLine _options;
    /// <summary>The words before the reason on stderr when the state is refused (exit 4); the runtime looks for them.</summary>
    internal const string StateRefusedMarker = "state refused";

    private readonly ManualResetEventSlim _exit = new(false);
    private readonly Lock _dataGate = new();
    private Socket? _attachedData;

    public VTpmHostProcess(HostCommandLine options) => _options = options;

    public int Run()
    {
        using var log = new HostLog(_options.LogFile, _options.LogLevel);
        VTpmDevice device;
        VTpmStateSource? source = null;
        try
        {
            source = VTpmStateSource.Open(_options);
            VTpmStateImage image = source.Store.Load(LibTpmsEngine.LibraryVersion);
            device = new VTpmDevice(LibTpmsEngine.Open(source.Store, image), _options.Device);
        }
        catch (SealingKeyException e)
        {
            source?.Dispose();
            return Fail(log, HostExitCode.StateRefused, e.Message);
        }
        catch (VTpmStateException e)
        {
            source?.Dispose();
            return Fail(log, HostExitCode.StateRefused, e.Message);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            source?.Dispose();
            return Fail(log, HostExitCode.Environment, $"libtpms cannot be loaded ({e.Message}); install libtpms0");
        }

        // Disposal order: the device stores its last state before the VMGS (and its writer lock) is released.
        using (source)
        using (device)
        {
            if (_options.NotNeedInit && device.Init(deleteVolatile: false) != LibTpmsResult.Success)
                return Fail(log, HostExitCode.StateRefused, $"libtpms rejected the state in {_options.StateDescription}: {device.InitFailure?.Message}");

            var control = new SwtpmControlServer(device) { AttachDataFd = fd => AttachDataFd(fd, device, source.Store, log) };
            var listeners = new List<ChannelListener>();
            try
            {
                listeners.Add(ChannelListener.Start(_options.Control, "ctrl", s => ControlConnection.Serve(s, control, log, () => _exit.Set())));
                if (_options.Server is not null)
                    listeners.Add(ChannelListener.Start(_options.Server, "server", s => DataConnection.Serve(s, device, source.Store, log)));
            }
            catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
            {
                listeners.ForEach(l => l.Dispose());
                return Fail(log, HostExitCode.Environment, $"cannot listen: {e.Message}");
            }

            using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Exit);
            using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Exit);
            using PosixSignalRegistration hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Exit);
            if (_options.PidFile is not null)
                File.WriteAllText(_options.PidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
            log.Info($"ready: state {_options.StateDescription}, ctrl {_options.Control}, server {_options.Server?.ToString() ?? "(via SET_DATAFD)"}, libtpms {VTpmStateStore.LibTpmsVersionText(LibTpmsEngine.LibraryVersion)}");

            _exit.Wait();
            log.Info("stopping: TPM2_Shutdown, state stored");
            listeners.ForEach(l => l.Dispose());
            device.Stop(); // auto TPM2_Shutdown + Terminate; every NV change was already stored when it happened
            if (_options.PidFile is not null)
                File.Delete(_options.PidFile);
            return (int)HostExitCode.Ok;
        }
    }

    private void Exit(PosixSignalContext context)
    {
        context.Cancel = true;
        _exit.Set();
    }

    private uint AttachDataFd(int fd, VTpmDevice device, VTpmStateStore store, HostLog log)
    {
        lock (_dataGate)
        {
            if (_attachedData is not null && _attachedData.Connected)
            {
                _ = Close(fd);
                return LibTpmsResult.IoError; // swtpm: SET_DATAFD when a data fd exists
            }

            var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            _attachedData = socket;
            new Thread(() =>
            {
                DataConnection.Serve(socket, device, store, log);
                // The fd QEMU handed over with SET_DATAFD reached end of file: QEMU is gone (it does not always send
                // CMD_SHUTDOWN on a guest power-off), and nobody else can reach this channel. End as on CMD_SHUTDOWN, so the
                // supervisor sees the vTPM exit with QEMU instead of waiting and signalling. Every NV change is stored already.
                try
                {
                    log.Info("data fd closed by its peer (QEMU exited): stopping");
                    _exit.Set();
                }
                catch (ObjectDisposedException)
                {
                    // CMD_SHUTDOWN got there first and the process is already ending.
                }
            }) { IsBackground = true, Name = "tl-vtpm data fd" }.Start();
            return LibTpmsResult.Success;
        }
    }

    private static int Fail(HostLog log, HostExitCode code, string message)
    {
        if (log.HasFile)
            log.Error(message);
        // A refused state is said in words a supervisor that is not our parent (a detached VM's) can tell from its log:
        // it learns no exit code, and a refused state must fail the VM's start by name, never look like a crash.
        Console.Error.WriteLine(code == HostExitCode.StateRefused ? $"tl-vtpm: {StateRefusedMarker}: {message}" : $"tl-vtpm: {message}");
        return (int)code;
    }

    public void Dispose() => _exit.Dispose();

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
