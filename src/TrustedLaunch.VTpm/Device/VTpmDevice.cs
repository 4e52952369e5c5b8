using System.Buffers.Binary;
using TrustedLaunch.VTpm.Engine;

namespace TrustedLaunch.VTpm.Device;

/// <summary>Which TPM2_Startup the device sends itself after it starts the TPM (swtpm <c>--flags startup-*</c>).</summary>
public enum VTpmStartupMode
{
    /// <summary>Leave TPM2_Startup to the client (firmware sends it; QEMU's default).</summary>
    None,
    Clear,
    State,
}

/// <summary>
/// A vTPM as QEMU's tpm-emulator backend and tpm2-tss's swtpm TCTI see it: stopped or running, a locality,
/// TPM2_Shutdown sent before every reset/stop unless the guest just sent one (swtpm PR #701: an abrupt VM reset
/// would otherwise count as a dictionary-attack event), and the fatal answer every data-channel command gets
/// before CMD_INIT, which QEMU's pre-INIT probe relies on to detect a TPM 2 (vtpm.md §2.3).
/// </summary>
public sealed class VTpmDevice : IDisposable
{
    /// <summary>TPM2 fatal response: tag TPM_ST_NO_SESSIONS, size 10, TPM_RC_FAILURE (0x101) — what swtpm sends before INIT.</summary>
    public static ReadOnlySpan<byte> NotInitializedResponse => [0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x01];

    private const uint CommandCodeStartup = 0x144; // TPM_CC_Startup (Part 2 §6.5.2)
    private const uint CommandCodeShutdown = 0x145; // TPM_CC_Shutdown
    private const ushort StartupClear = 0x0000; // TPM_SU_CLEAR (Part 2 §6.11)
    private const ushort StartupState = 0x0001; // TPM_SU_STATE
    private const uint ResponseCodeInitialize = 0x100; // TPM_RC_INITIALIZE: TPM2_Startup not yet run

    private readonly Lock _gate = new();
    private readonly LibTpmsEngine _engine;
    private bool _lastCommandWasShutdown;

    public VTpmDevice(LibTpmsEngine engine, VTpmDeviceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _engine = engine;
        Options = options ?? new VTpmDeviceOptions();
    }

    public VTpmDeviceOptions Options { get; }

    public LibTpmsEngine Engine => _engine;

    public bool IsRunning => _engine.IsRunning;

    public byte Locality => _engine.Locality;

    /// <summary>CMD_INIT: (re)starts the TPM; a running TPM gets TPM2_Shutdown first. Returns a libtpms result.</summary>
    public uint Init(bool deleteVolatile)
    {
        lock (_gate)
        {
            ShutdownAndTerminate();
            try
            {
                _engine.Initialize(deleteVolatile);
            }
            catch (LibTpmsException e)
            {
                InitFailure = e;
                return LibTpmsResult.Fail;
            }

            InitFailure = null;
            _lastCommandWasShutdown = false;
            if (Options.StartupMode != VTpmStartupMode.None)
                _ = _engine.Execute(StartupOrShutdownCommand(CommandCodeStartup, Options.StartupMode == VTpmStartupMode.State ? StartupState : StartupClear));
            return LibTpmsResult.Success;
        }
    }

    /// <summary>Why the last <see cref="Init"/> failed, for the log.</summary>
    public Exception? InitFailure { get; private set; }

    /// <summary>CMD_STOP / CMD_SHUTDOWN / process exit: TPM2_Shutdown unless the guest just sent one, then terminate.</summary>
    public void Stop()
    {
        lock (_gate)
            ShutdownAndTerminate();
    }

    /// <summary>Runs one data-channel command; before INIT (or after STOP) every command gets the fatal response.</summary>
    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        lock (_gate)
        {
            if (!_engine.IsRunning)
                return NotInitializedResponse.ToArray();
            byte[] response = _engine.Execute(command);
            _lastCommandWasShutdown = command.Length >= 10 && BinaryPrimitives.ReadUInt32BigEndian(command[6..]) == CommandCodeShutdown &&
                                      response.Length >= 10 && BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)) == 0;
            return response;
        }
    }

    /// <summary>CMD_SET_LOCALITY: 0–4 (4 refused with <see cref="VTpmDeviceOptions.RejectLocality4"/>).</summary>
    public uint SetLocality(byte locality)
    {
        if (locality > 4 || (locality == 4 && Options.RejectLocality4))
            return LibTpmsResult.BadLocality;
        _engine.Locality = locality;
        return LibTpmsResult.Success;
    }

    private void ShutdownAndTerminate()
    {
        if (!_engine.IsRunning)
            return;
        if (!_lastCommandWasShutdown && !Options.DisableAutoShutdown)
        {
            // swtpm tpmlib_maybe_send_tpm2_shutdown: SU_STATE, then SU_CLEAR if that failed; nothing if never started.
            uint rc = ResponseCode(_engine.Execute(StartupOrShutdownCommand(CommandCodeShutdown, StartupState)));
            if (rc != 0 && rc != ResponseCodeInitialize)
                _ = _engine.Execute(StartupOrShutdownCommand(CommandCodeShutdown, StartupClear));
        }

        _engine.Terminate();
        _lastCommandWasShutdown = false;
    }

    private static byte[] StartupOrShutdownCommand(uint commandCode, ushort startupType)
    {
        var command = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(command, 0x8001); // TPM_ST_NO_SESSIONS
        BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(2), 12);
        BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(6), commandCode);
        BinaryPrimitives.WriteUInt16BigEndian(command.AsSpan(10), startupType);
        return command;
    }

    private static uint ResponseCode(ReadOnlySpan<byte> response) =>
        response.Length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(response[6..]) : uint.MaxValue;

    public void Dispose()
    {
        lock (_gate)
        {
            try
            {
                ShutdownAndTerminate();
            }
            finally
            {
                _engine.Dispose();
            }
        }
    }
}

/// <summary>Behaviour switches, named after swtpm's <c>--flags</c> and <c>--locality</c> options.</summary>
public sealed record VTpmDeviceOptions
{
    /// <summary>TPM2_Startup sent by the device after each start (swtpm <c>startup-clear</c>/<c>startup-state</c>).</summary>
    public VTpmStartupMode StartupMode { get; init; } = VTpmStartupMode.None;

    /// <summary>swtpm <c>--locality reject-locality-4</c>.</summary>
    public bool RejectLocality4 { get; init; }

    /// <summary>swtpm ≥0.8 <c>--flags disable-auto-shutdown</c>.</summary>
    public bool DisableAutoShutdown { get; init; }
}
