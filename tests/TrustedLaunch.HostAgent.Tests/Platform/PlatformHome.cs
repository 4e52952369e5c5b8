using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TrustedLaunch.Cli;
using TrustedLaunch.HostSystem;
using TrustedLaunch.HostSystem.Processes;
using TrustedLaunch.Runtime;
using TrustedLaunch.Testing;

namespace TrustedLaunch.HostAgent.Tests.Platform;

/// <summary>
/// One TL_HOME for a platform test, driven by the real programs in the test's output folder (<c>tl server</c>, <c>tl host</c>,
/// <c>tl quickstart</c> as processes; <c>tl vm …</c> in process through <see cref="TlCli"/>). State is fresh each run; the
/// guest images, Debian packages and published guest agents are shared with the other boot tests, so only the first run
/// builds. Disposing kills whatever the test started and every VM process of this home, and removes the VMs' run folders
/// (<c>/tmp/tl-run-*</c>) a failed test leaves behind.
/// </summary>
public sealed class PlatformHome : IDisposable
{
    private readonly List<DetachedProcess> _started = [];

    private PlatformHome(string path, int port)
    {
        Path = path;
        Url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}");
    }

    public string Path { get; }

    /// <summary>The control plane's URL (a free loopback port).</summary>
    public string Url { get; }

    public static string TlDll => System.IO.Path.Combine(AppContext.BaseDirectory, "tl.dll");

    /// <summary>The images these tests build, one folder per checkout (a guest agent built from other sources makes other images).</summary>
    public static string ImageCache => System.IO.Path.Combine(Environment.GetEnvironmentVariable("TL_TEST_IMAGE_CACHE") is { Length: > 0 } c ? c : System.IO.Path.GetTempPath(),
        "tl-test-platform-images-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(RepositoryPaths.RepositoryRoot)))[..8]);

    public static PlatformHome Fresh(string name)
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), name);
        if (Directory.Exists(path))
            Directory.Delete(path, recursive: true);
        Directory.CreateDirectory(System.IO.Path.Combine(path, "cache"));
        Directory.CreateDirectory(ImageCache);
        Directory.CreateDirectory(System.IO.Path.Combine(RepositoryPaths.TestImageCache, "debs"));
        Directory.CreateDirectory(System.IO.Path.Combine(RepositoryPaths.TestImageCache, "guest-agent"));
        File.CreateSymbolicLink(System.IO.Path.Combine(path, "images"), ImageCache);
        File.CreateSymbolicLink(System.IO.Path.Combine(path, "cache", "debs"), System.IO.Path.Combine(RepositoryPaths.TestImageCache, "debs"));
        File.CreateSymbolicLink(System.IO.Path.Combine(path, "cache", "guest-agent"), System.IO.Path.Combine(RepositoryPaths.TestImageCache, "guest-agent"));
        return new PlatformHome(path, FreePort());
    }

    /// <summary>
    /// The prologue of most platform tests: the default image (Debian 12, Generation 2; built once, then cached), <c>tl server</c>
    /// with its local host, and the resource group (<c>tl group create -n GROUP [--tags …]</c>).
    /// </summary>
    public DetachedProcess StartWithGroup(string group, params string[] groupTags)
    {
        BuildDefaultImage();
        DetachedProcess server = StartServer();
        string[] tags = groupTags.Length == 0 ? [] : ["--tags", .. groupTags];
        ToolResult created = Tl(["group", "create", "-n", group, .. tags]);
        Assert.True(created.ExitCode == 0, created.ToString());
        return server;
    }

    /// <summary><c>tl image build debian-12 --generation 2</c> (a no-op once the image cache holds it).</summary>
    public void BuildDefaultImage()
    {
        ToolResult built = TlProcess(TimeSpan.FromMinutes(20), "image", "build", "debian-12", "--generation", "2");
        Assert.True(built.ExitCode == 0, built.ToString());
    }

    /// <summary><c>dotnet tl.dll ARGS</c> as a process with this TL_HOME.</summary>
    public ToolResult TlProcess(TimeSpan timeout, params string[] args) =>
        ExternalTool.Run("dotnet", [TlDll, .. args], environment: new Dictionary<string, string> { [TlHome.EnvironmentVariable] = Path }, timeout: timeout);

    /// <summary><c>tl ARGS --server URL</c> in this process.</summary>
    public ToolResult Tl(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = Task.Run(() => TlCli.InvokeAsync([.. args, "--server", Url], stdout, stderr)).GetAwaiter().GetResult();
        return new ToolResult(code, stdout.ToString(), stderr.ToString());
    }

    public JsonElement TlJson(params string[] args)
    {
        ToolResult result = Tl(args);
        Assert.True(result.ExitCode == 0, $"tl {string.Join(' ', args)}: {result}");
        return JsonDocument.Parse(result.StandardOutput).RootElement.Clone();
    }

    /// <summary>Starts <c>tl server</c> (or <c>tl host</c>) in the background with this home's data folder; its output goes to a log here.</summary>
    public DetachedProcess Start(string what, params string[] args)
    {
        string log = System.IO.Path.Combine(Path, $"{what}-{_started.Count}.log");
        DetachedProcess process = DetachedProcess.Start(ExternalTool.Require("dotnet"), [TlDll, .. args, "--data", Path], log);
        _started.Add(process);
        return process;
    }

    public DetachedProcess StartServer(params string[] args)
    {
        DetachedProcess server = Start("server", ["server", "--listen", Url, .. args]);
        WaitUntil(() => Answers(), TimeSpan.FromSeconds(60), $"tl server did not answer at {Url}: {server.StandardErrorTail}");
        return server;
    }

    public bool Answers()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            return http.GetAsync(new Uri(Url + "/healthz")).GetAwaiter().GetResult().StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>The instance view's <c>PowerState/…</c> and <c>BootVerdict/…</c> of a VM.</summary>
    public (string? Power, string? Verdict, string? Attestation) InstanceView(string group, string vm)
    {
        JsonElement shown = TlJson("vm", "get-instance-view", "-g", group, "-n", vm);
        string? Status(string prefix) => shown.GetProperty("properties").GetProperty("instanceView").GetProperty("statuses").EnumerateArray()
            .Select(s => s.GetProperty("code").GetString()!).FirstOrDefault(c => c.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];
        return (Status("PowerState/"), Status("BootVerdict/"), Status("GuestAttestation/"));
    }

    /// <summary>QEMU's and tl-vtpm's pids of a VM, from its run record (null when it runs from nowhere).</summary>
    public static VmRunRecord? RunRecord(Guid vmId) => VmRunRecord.Read(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"tl-run-{vmId:N}"));

    /// <summary>Processes whose command line names the VM (QEMU's -uuid, tl-vtpm's VMGS path).</summary>
    public static IReadOnlyList<int> ProcessesOf(Guid vmId)
    {
        var pids = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(dir), CultureInfo.InvariantCulture, out int pid))
                continue;
            try
            {
                string cmdline = File.ReadAllText(System.IO.Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(vmId.ToString("D"), StringComparison.OrdinalIgnoreCase) || cmdline.Contains(vmId.ToString("N"), StringComparison.OrdinalIgnoreCase))
                    pids.Add(pid);
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        return pids;
    }

    public static void WaitUntil(Func<bool> condition, TimeSpan timeout, string failure)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail(failure);
            Thread.Sleep(250);
        }
    }

    public string Logs() => string.Join("\n", Directory.EnumerateFiles(Path, "*.log").Select(f => $"== {f}\n{Tail(f)}"));

    public void Dispose()
    {
        foreach (DetachedProcess process in _started)
        {
            process.KillAsync().GetAwaiter().GetResult();
            process.Dispose();
        }

        // Any VM still running from this home (a failed assertion): kill it by its run record.
        string vms = System.IO.Path.Combine(Path, "vms");
        foreach (string dir in Directory.Exists(vms) ? Directory.EnumerateDirectories(vms) : [])
        {
            if (Guid.TryParse(System.IO.Path.GetFileName(dir), out Guid id))
            {
                foreach (int pid in ProcessesOf(id))
                    KillQuietly(pid);
            }
        }

        RemoveRunFolders();
    }

    /// <summary>
    /// The run folders of this home's VMs (their run record's QEMU command line names a file under this home): a VM deleted through
    /// the platform removes its own, but a test that fails midway leaves them in /tmp. Their processes are killed first.
    /// </summary>
    private void RemoveRunFolders()
    {
        string mine = Path + "/";
        foreach (string run in Directory.EnumerateDirectories(System.IO.Path.GetTempPath(), "tl-run-*"))
        {
            string record = System.IO.Path.Combine(run, "run.json");
            try
            {
                if (!File.Exists(record) || !File.ReadAllText(record).Contains(mine, StringComparison.Ordinal))
                    continue;
                if (Guid.TryParseExact(System.IO.Path.GetFileName(run)["tl-run-".Length..], "N", out Guid id))
                {
                    foreach (int pid in ProcessesOf(id))
                        KillQuietly(pid);
                }

                Directory.Delete(run, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Removed meanwhile, or still held: nothing of this test depends on it.
            }
        }
    }

    private static void KillQuietly(int pid)
    {
        try
        {
            System.Diagnostics.Process.GetProcessById(pid).Kill();
        }
        catch (ArgumentException)
        {
            // Gone.
        }
        catch (InvalidOperationException)
        {
            // Gone.
        }
    }

    private static string Tail(string path)
    {
        string text = File.ReadAllText(path);
        return text.Length > 6000 ? text[^6000..] : text;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The platform's boot tests run one after another (TCG guests on two cores).</summary>
[CollectionDefinition(Name)]
public sealed class PlatformBoots
{
    public const string Name = "platform boots";
}
