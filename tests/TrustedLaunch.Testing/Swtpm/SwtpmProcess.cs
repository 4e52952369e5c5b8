using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TrustedLaunch.Testing.Swtpm;

/// <summary>How to start a swtpm-compatible TPM server for a test.</summary>
public sealed record SwtpmOptions
{
    /// <summary>The program; "swtpm" by default. Any executable taking swtpm's <c>socket</c> command line works (tl-vtpm).</summary>
    public string Executable { get; init; } = "swtpm";

    /// <summary>Arguments placed before the swtpm-style ones (e.g. <c>["socket"]</c> for swtpm, or a dll path for dotnet).</summary>
    public IReadOnlyList<string> LeadingArguments { get; init; } = ["socket"];

    /// <summary>Unix sockets instead of loopback TCP for the data and control channels.</summary>
    public bool UseUnixSockets { get; init; }

    /// <summary><c>--flags not-need-init,startup-clear</c>: the TPM is started so TSS clients can talk at once.</summary>
    public bool StartupClear { get; init; } = true;

    /// <summary>An existing state directory to reuse (e.g. to test persistence); a fresh temp dir when null.</summary>
    public string? StateDirectory { get; init; }

    /// <summary>Extra arguments appended to the command line.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];
}

/// <summary>
/// A running <c>swtpm socket --tpm2</c> (or a drop-in such as tl-vtpm) on loopback or Unix sockets, for one test.
/// Ports: tpm2-tss's swtpm TCTI takes the control port as data port + 1, so two consecutive free ports are chosen.
/// Disposing kills the process and deletes the state directory it created.
/// </summary>
public sealed class SwtpmProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _workDirectory;

    private SwtpmProcess(Process process, string workDirectory, string stateDirectory, int dataPort, int controlPort,
        string? dataSocket, string? controlSocket)
    {
        _process = process;
        _workDirectory = workDirectory;
        StateDirectory = stateDirectory;
        DataPort = dataPort;
        ControlPort = controlPort;
        DataSocketPath = dataSocket;
        ControlSocketPath = controlSocket;
    }

    public string StateDirectory { get; }
    public int DataPort { get; }
    public int ControlPort { get; }
    public string? DataSocketPath { get; }
    public string? ControlSocketPath { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;
    public string LogPath => Path.Combine(_workDirectory, "swtpm.log");

    /// <summary>The data channel endpoint (TCP loopback or Unix socket).</summary>
    public EndPoint DataEndPoint => DataSocketPath is null ? new IPEndPoint(IPAddress.Loopback, DataPort) : new UnixDomainSocketEndPoint(DataSocketPath);

    public EndPoint ControlEndPoint => ControlSocketPath is null ? new IPEndPoint(IPAddress.Loopback, ControlPort) : new UnixDomainSocketEndPoint(ControlSocketPath);

    /// <summary>The TCTI for tpm2-tools (<c>-T</c> / <c>TPM2TOOLS_TCTI</c>).</summary>
    public string Tcti => DataSocketPath is null
        ? string.Create(CultureInfo.InvariantCulture, $"swtpm:host=127.0.0.1,port={DataPort}")
        : $"swtpm:path={DataSocketPath}";

    /// <summary>Environment for running tpm2-tools against this TPM.</summary>
    public IDictionary<string, string> ToolEnvironment => new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = Tcti };

    public static SwtpmProcess Start(SwtpmOptions? options = null)
    {
        options ??= new SwtpmOptions();
        Exception? last = null;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                return TryStart(options);
            }
            catch (PortInUseException e)
            {
                last = e; // another test grabbed the port between probing and binding; choose again
            }
        }

        throw new InvalidOperationException("Could not start a TPM server on free ports.", last);
    }

    private static SwtpmProcess TryStart(SwtpmOptions options)
    {
        string work = RepositoryPaths.NewTempDirectory("tl-swtpm");
        string state = options.StateDirectory ?? Directory.CreateDirectory(Path.Combine(work, "state")).FullName;
        int dataPort = 0, controlPort = 0;
        string? dataSocket = null, controlSocket = null;
        var args = new List<string>(options.LeadingArguments) { "--tpm2", "--tpmstate", $"dir={state}" };
        if (options.UseUnixSockets)
        {
            dataSocket = Path.Combine(work, "data.sock");
            controlSocket = dataSocket + ".ctrl"; // tpm2-tss swtpm TCTI: control socket = path + ".ctrl"
            args.AddRange(["--server", $"type=unixio,path={dataSocket}", "--ctrl", $"type=unixio,path={controlSocket}"]);
        }
        else
        {
            (dataPort, controlPort) = FreePortPair();
            args.AddRange([
                "--server", string.Create(CultureInfo.InvariantCulture, $"type=tcp,port={dataPort},bindaddr=127.0.0.1"),
                "--ctrl", string.Create(CultureInfo.InvariantCulture, $"type=tcp,port={controlPort},bindaddr=127.0.0.1"),
            ]);
        }

        if (options.StartupClear)
            args.AddRange(["--flags", "not-need-init,startup-clear"]);
        args.AddRange(["--log", $"file={Path.Combine(work, "swtpm.log")},level=1"]);
        args.AddRange(options.ExtraArguments);

        string exe = options.Executable.Contains('/', StringComparison.Ordinal) ? options.Executable : ExternalTool.Require(options.Executable);
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {exe}.");
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        var server = new SwtpmProcess(process, work, state, dataPort, controlPort, dataSocket, controlSocket);
        try
        {
            server.WaitReady(TimeSpan.FromSeconds(15), stderr);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private void WaitReady(TimeSpan timeout, Task<string> stderr)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                string err = stderr.Wait(TimeSpan.FromSeconds(2)) ? stderr.Result : "";
                string log = File.Exists(LogPath) ? File.ReadAllText(LogPath) : "";
                string all = err + log;
                if (all.Contains("in use", StringComparison.OrdinalIgnoreCase) || all.Contains("bind", StringComparison.OrdinalIgnoreCase))
                    throw new PortInUseException(all);
                throw new InvalidOperationException($"TPM server exited with {_process.ExitCode}: {all}");
            }

            // Probe the data channel only: a control connection would occupy swtpm's single control client slot.
            if (CanConnect(DataEndPoint))
                return;
            Thread.Sleep(20);
        }

        throw new TimeoutException($"TPM server did not listen within {timeout}.");
    }

    private static bool CanConnect(EndPoint endPoint)
    {
        using var socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(endPoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Two consecutive free loopback ports (data, control).</summary>
    public static (int Data, int Control) FreePortPair()
    {
        for (int i = 0; i < 50; i++)
        {
            using var first = new TcpListener(IPAddress.Loopback, 0);
            first.Start();
            int port = ((IPEndPoint)first.LocalEndpoint).Port;
            if (port >= 65535)
                continue;
            using var second = new TcpListener(IPAddress.Loopback, port + 1);
            try
            {
                second.Start();
            }
            catch (SocketException)
            {
                continue;
            }

            return (port, port + 1);
        }

        throw new InvalidOperationException("No two consecutive free loopback ports found.");
    }

    /// <summary>Kills the server (tests that need an orderly stop send CMD_SHUTDOWN first).</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        try
        {
            // The work directory holds logs and sockets, and the state only when this fixture created it.
            Directory.Delete(_workDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless; never fail a test in cleanup.
        }
    }

    private sealed class PortInUseException(string message) : Exception(message);
}
