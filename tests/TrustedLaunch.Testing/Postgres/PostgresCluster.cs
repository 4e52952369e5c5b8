using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TrustedLaunch.HostSystem.Processes;

namespace TrustedLaunch.Testing.Postgres;

/// <summary>
/// A throw-away PostgreSQL cluster owned by the test run (Debian's <c>postgresql</c> package; no system service
/// assumed): <c>initdb</c> into a temporary folder, the postmaster started as our child on a free loopback port with
/// its socket in that folder, stopped and the folder deleted on dispose. initdb refuses root, so as root (CI) both
/// run as the <c>postgres</c> user. Databases are made with <see cref="CreateDatabase"/>, one per test.
/// </summary>
public sealed class PostgresCluster : IDisposable
{
    private readonly string _directory;
    private readonly string _bin;
    private readonly ChildProcess _postmaster;
    private int _databases;

    /// <param name="durable">False (tests): fsync off, which a throw-away cluster can afford. True (benchmarks): as deployed.</param>
    public PostgresCluster(bool durable = false, int maxConnections = 300)
    {
        _bin = FindBinaries();
        _directory = Path.Combine(Path.GetTempPath(), $"tl-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
        Port = FreePort();
        string data = Path.Combine(_directory, "data");
        RunAsOwner("chown", [Owner, _directory], asRoot: true);
        ToolResult init = RunAsOwner(Path.Combine(_bin, "initdb"),
            ["-D", data, "-U", "postgres", "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync"]);
        if (init.ExitCode != 0)
            throw new InvalidOperationException($"initdb failed: {init}");

        var settings = new List<string>
        {
            "-D", data, "-p", Port.ToString(CultureInfo.InvariantCulture), "-k", _directory, "-c", "listen_addresses=127.0.0.1",
            "-c", $"max_connections={maxConnections.ToString(CultureInfo.InvariantCulture)}",
        };
        if (!durable)
            settings.AddRange(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        string postgres = Path.Combine(_bin, "postgres");
        _postmaster = IsRoot
            ? ChildProcess.Start(ExternalTool.Require("setpriv"),
                ["--reuid=" + Owner, "--regid=" + Owner, "--init-groups", "--pdeathsig", "KILL", "--", postgres, .. settings],
                Path.Combine(_directory, "postgres.log"))
            : ChildProcess.Start(postgres, settings, Path.Combine(_directory, "postgres.log"));
        WaitUntilReady();
    }

    /// <summary>The loopback TCP port the cluster listens on.</summary>
    public int Port { get; }

    /// <summary>The <c>bin</c> folder of the PostgreSQL installation used (psql, pg_ctl, …).</summary>
    public string BinDirectory => _bin;

    /// <summary>A connection string for <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database, int maxPoolSize = 50) => string.Create(CultureInfo.InvariantCulture,
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Maximum Pool Size={maxPoolSize};Timeout=30;Command Timeout=60");

    /// <summary>Creates a new empty database (C collation) and returns its name.</summary>
    public string CreateDatabase(string prefix = "tl")
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"{prefix}_{Interlocked.Increment(ref _databases)}_{Environment.ProcessId}");
        Psql("postgres", $"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'");
        return name;
    }

    /// <summary>Runs one SQL statement with psql and returns its unaligned output.</summary>
    public string Psql(string database, string sql)
    {
        ToolResult result = ExternalTool.Run(Path.Combine(_bin, "psql"),
            ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql]);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"psql failed: {result}");
        return result.StandardOutput.Trim();
    }

    public void Dispose()
    {
        // SIGQUIT: immediate shutdown; the cluster is thrown away anyway.
        if (!_postmaster.HasExited)
            RunAsOwner("kill", ["-QUIT", _postmaster.Id.ToString(CultureInfo.InvariantCulture)], asRoot: true);
        _postmaster.StopAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        _postmaster.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A backend still closing its files: the temp folder is left for the OS to clean.
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static string Owner => IsRoot ? "postgres" : Environment.UserName;

    private static ToolResult RunAsOwner(string program, IReadOnlyList<string> arguments, bool asRoot = false) =>
        !IsRoot ? (asRoot ? new ToolResult(0, "", "") : ExternalTool.Run(program, arguments))
        : asRoot ? ExternalTool.Run(program, arguments)
        : ExternalTool.Run("runuser", ["-u", "postgres", "--", program, .. arguments]);

    private void WaitUntilReady()
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            ToolResult ready = ExternalTool.Run(Path.Combine(_bin, "pg_isready"), ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture)]);
            if (ready.ExitCode == 0)
                return;
            if (_postmaster.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException("PostgreSQL did not start: " + File.ReadAllText(Path.Combine(_directory, "postgres.log")));
            Thread.Sleep(100);
        }
    }

    private static string FindBinaries()
    {
        // Debian installs the server outside PATH, one folder per major version; the newest wins.
        string? newest = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "postgres")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out int v) ? v : 0).FirstOrDefault()
            : null;
        if (newest is not null)
            return newest;
        string initdb = ExternalTool.Find("initdb") ?? throw new InvalidOperationException(
            "PostgreSQL is not installed (initdb not found); run ./scripts/install-deps.sh (the test command does this).");
        return Path.GetDirectoryName(Path.GetFullPath(initdb))!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
