using System.Diagnostics;
using System.Net.Sockets;
using TrustedLaunch.Storage;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.VTpm.State;

namespace TrustedLaunch.VTpm.Host.Tests;

/// <summary>A manufactured vTPM on disk: its state file, key file and identity.</summary>
public sealed record ManufacturedVTpm(string Directory, string StatePath, string KeyPath, VTpmIdentity Identity)
{
    internal static readonly Lock ManufactureGate = new();
    private static readonly Lazy<FilePlatformCa> SharedCa = new(() =>
        FilePlatformCa.Create(Path.Combine(RepositoryPaths.NewTempDirectory("tl-vtpm-ca"), "pki"), "TrustedLaunch Test"));

    public static FilePlatformCa Ca => SharedCa.Value;

    /// <summary>Manufactures in this test process (libtpms is one per process, hence the lock).</summary>
    public static ManufacturedVTpm Create(string vmId = "vm-test", IReadOnlyList<TpmAlgId>? banks = null)
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-vtpm");
        string state = Path.Combine(dir, "vtpm.state");
        string key = Path.Combine(dir, "vtpm.key");
        SealingKey sealingKey = SealingKey.Generate(key);
        lock (ManufactureGate)
        {
            VTpmIdentity identity = VTpmManufacturer.Manufacture(VTpmStateFile.Open(state, sealingKey), Ca,
                new VTpmManufactureOptions { VmId = TestVmIds.For(vmId), PcrBanks = banks ?? VTpmLayout.DefaultBanks });
            return new ManufacturedVTpm(dir, state, key, identity);
        }
    }
}

/// <summary>A running <c>tl-vtpm socket</c> (the real host, run with dotnet) on Unix sockets, for one test.</summary>
public sealed class TlVtpmServer : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;

    private TlVtpmServer(Process process, string dataSocket, string logPath)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
        DataSocket = dataSocket;
        LogPath = logPath;
    }

    public string DataSocket { get; }
    public string ControlSocket => DataSocket + ".ctrl";
    public string LogPath { get; }
    public int ProcessId => _process.Id;

    /// <summary>tpm2-tss swtpm TCTI: control socket = path + ".ctrl".</summary>
    public string Tcti => $"swtpm:path={DataSocket}";

    public IDictionary<string, string> ToolEnvironment => new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = Tcti };

    public static string HostDll => Path.Combine(AppContext.BaseDirectory, "tl-vtpm.dll");

    /// <summary>The tl-vtpm command line (after <c>dotnet tl-vtpm.dll</c>).</summary>
    public static List<string> Arguments(string statePath, string keyPath, string dataSocket, bool notNeedInit, string logPath) =>
    [
        "socket", "--tpm2", "--state", statePath, "--key-file", keyPath,
        "--server", $"type=unixio,path={dataSocket}", "--ctrl", $"type=unixio,path={dataSocket}.ctrl",
        "--log", $"file={logPath},level=5",
        .. notNeedInit ? new[] { "--flags", "not-need-init,startup-clear" } : [],
    ];

    public static TlVtpmServer Start(ManufacturedVTpm vtpm, bool notNeedInit = true) =>
        Start(vtpm.StatePath, vtpm.KeyPath, notNeedInit);

    public static TlVtpmServer Start(string statePath, string keyPath, bool notNeedInit = true)
    {
        string work = RepositoryPaths.NewTempDirectory("tl-vtpm-run");
        string data = Path.Combine(work, "tpm.sock");
        string log = Path.Combine(work, "tl-vtpm.log");
        return Launch(Arguments(statePath, keyPath, data, notNeedInit, log), data, log);
    }

    /// <summary>Like <see cref="Start(ManufacturedVTpm, bool)"/>, logging at <c>--log level=<paramref name="logLevel"/></c>.</summary>
    public static TlVtpmServer StartLogging(ManufacturedVTpm vtpm, int logLevel)
    {
        string work = RepositoryPaths.NewTempDirectory("tl-vtpm-run");
        string data = Path.Combine(work, "tpm.sock");
        string log = Path.Combine(work, "tl-vtpm.log");
        List<string> args = Arguments(vtpm.StatePath, vtpm.KeyPath, data, notNeedInit: true, log);
        args[args.IndexOf($"file={log},level=5")] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"file={log},level={logLevel}");
        return Launch(args, data, log);
    }

    /// <summary>tl-vtpm on the vtpm entry of a VMGS (<c>--vmgs FILE --kek-file KEK</c>).</summary>
    public static TlVtpmServer StartVmgs(string vmgsPath, string kekPath, bool notNeedInit = true)
    {
        string work = RepositoryPaths.NewTempDirectory("tl-vtpm-run");
        string data = Path.Combine(work, "tpm.sock");
        string log = Path.Combine(work, "tl-vtpm.log");
        return Launch(VmgsArguments(vmgsPath, kekPath, data, notNeedInit, log), data, log);
    }

    /// <summary>The tl-vtpm command line on a VMGS (after <c>dotnet tl-vtpm.dll</c>).</summary>
    public static List<string> VmgsArguments(string vmgsPath, string kekPath, string dataSocket, bool notNeedInit, string logPath)
    {
        List<string> args = Arguments("-", "-", dataSocket, notNeedInit, logPath);
        args.RemoveRange(2, 4); // --state - --key-file -
        args.InsertRange(2, ["--vmgs", vmgsPath, "--kek-file", kekPath]);
        return args;
    }

    private static TlVtpmServer Launch(IEnumerable<string> arguments, string data, string log)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(HostDll);
        foreach (string a in arguments)
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start");
        var server = new TlVtpmServer(process, data, log);
        server.WaitReady();
        return server;
    }

    private void WaitReady()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"tl-vtpm exited with {_process.ExitCode}: {_stderr.Result}");
            if (File.Exists(ControlSocket) && (DataSocket is null || File.Exists(DataSocket)))
            {
                try
                {
                    using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    probe.Connect(new UnixDomainSocketEndPoint(DataSocket!));
                    return;
                }
                catch (SocketException)
                {
                    // not listening yet
                }
            }

            Thread.Sleep(10);
        }

        throw new TimeoutException("tl-vtpm did not become ready in 20 s.");
    }

    /// <summary>A typed client over one persistent data connection.</summary>
    public TpmClient Client() => new(SwtpmSocketTransport.Unix(DataSocket, keepConnection: true));

    public SwtpmControlClient Control() => SwtpmControlClient.Unix(ControlSocket);

    /// <summary>SIGKILL: no chance to store anything.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM and wait; returns the exit code.</summary>
    public int Terminate(TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
            _ = Signal(_process.Id, 15);
        if (!_process.WaitForExit(timeout ?? TimeSpan.FromSeconds(10)))
            throw new TimeoutException("tl-vtpm did not exit on SIGTERM.");
        return _process.ExitCode;
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
            throw new TimeoutException("tl-vtpm did not exit.");
        return _process.ExitCode;
    }

    public string StandardError => _process.HasExited ? _stderr.Result : "";

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
            // never started
        }

        _process.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Signal(int pid, int signal);
}
