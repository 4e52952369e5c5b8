using System.Globalization;
using System.Net;
using System.Text.Json;
using TrustedLaunch.HostSystem.Processes;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Packaging;

/// <summary>
/// The Debian package on this machine, for real: its fields and files, then <c>dpkg -i</c>, <c>systemd-analyze verify</c>
/// of the installed units, the installed <c>tl</c> running the service as the package's account (health, metrics, a
/// JSON log line carrying the caller's trace id), <c>dpkg -r</c> (configuration and state stay) and
/// <c>dpkg --purge</c> (nothing stays). systemd is not PID 1 here, so the units are verified, not started.
/// </summary>
[IntegrationTest]
public sealed class DebianPackageTests(DebianPackageFixture package) : IClassFixture<DebianPackageFixture>
{
    private const string Account = "trustedlaunch";

    [Fact]
    public void Package_FieldsAndFiles_AsDocumented()
    {
        ToolResult info = Run("dpkg-deb", "--field", package.PackagePath, "Package", "Version", "Architecture", "Depends", "Conflicts");
        Assert.Contains($"Package: {DebianPackageFixture.Name}", info.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"Version: {DebianPackageFixture.Version}", info.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Architecture: amd64", info.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Conflicts: trustedlaunch", info.StandardOutput, StringComparison.Ordinal);
        foreach (string dependency in new[] { "qemu-system-x86", "ovmf", "libtpms0", "libssl3", "adduser" })
            Assert.Contains(dependency, info.StandardOutput, StringComparison.Ordinal);

        string contents = Run("dpkg-deb", "--contents", package.PackagePath).StandardOutput;
        foreach (string path in new[]
        {
            "./usr/lib/trustedlaunch/tl", "./usr/lib/trustedlaunch/tl-server", "./usr/lib/trustedlaunch/tl-vtpm", "./usr/lib/trustedlaunch/tl-guest-agent",
            "./usr/lib/trustedlaunch/libhostfxr.so", "./usr/bin/tl -> ../lib/trustedlaunch/tl",
            "./usr/lib/systemd/system/trustedlaunch-server.service", "./usr/lib/systemd/system/trustedlaunch-host.service",
            "./etc/trustedlaunch/server.env", "./etc/trustedlaunch/host.env",
            $"./usr/share/doc/{DebianPackageFixture.Name}/install.md", $"./usr/share/doc/{DebianPackageFixture.Name}/observability.md",
        })
            Assert.Contains(path, contents, StringComparison.Ordinal);
        Assert.DoesNotContain(".pdb", contents, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Package_InstallVerifyRunRemovePurge_LeavesNothingBehind()
    {
        Assert.False(IsInstalled("trustedlaunch"), "a real trustedlaunch package is installed on this machine; this test will not touch it");
        Assert.False(Directory.Exists("/usr/lib/trustedlaunch"), "/usr/lib/trustedlaunch exists without the package; refusing to overwrite it");
        bool accountExisted = Run("getent", "passwd", Account).ExitCode == 0;
        bool stateExisted = Directory.Exists("/var/lib/trustedlaunch");
        try
        {
            ToolResult installed = Run("dpkg", "-i", package.PackagePath);
            Assert.True(installed.ExitCode == 0, $"dpkg -i: {installed}");
            Assert.True(IsInstalled(DebianPackageFixture.Name));
            Assert.Equal(0, Run("getent", "passwd", Account).ExitCode);

            ToolResult verified = Run("systemd-analyze", "verify",
                "/usr/lib/systemd/system/trustedlaunch-server.service", "/usr/lib/systemd/system/trustedlaunch-host.service");
            Assert.True(verified.ExitCode == 0, $"systemd-analyze verify: {verified}");

            ToolResult version = Run("/usr/bin/tl", "--version");
            Assert.Equal(0, version.ExitCode);
            Assert.Equal(DebianPackageFixture.Version, version.StandardOutput.Trim());

            await RunServiceAsTheAccountAsync();

            ToolResult removed = Run("dpkg", "-r", DebianPackageFixture.Name);
            Assert.True(removed.ExitCode == 0, $"dpkg -r: {removed}");
            Assert.False(File.Exists("/usr/lib/trustedlaunch/tl"));
            Assert.False(File.Exists("/usr/bin/tl"));
            Assert.True(File.Exists("/etc/trustedlaunch/server.env"), "dpkg -r keeps the configuration (conffiles)");

            ToolResult purged = Run("dpkg", "--purge", DebianPackageFixture.Name);
            Assert.True(purged.ExitCode == 0, $"dpkg --purge: {purged}");
            Assert.False(IsInstalled(DebianPackageFixture.Name));
            Assert.False(Directory.Exists("/etc/trustedlaunch"), "purge removes the configuration");
            Assert.False(Directory.Exists("/usr/lib/trustedlaunch"));
            Assert.False(File.Exists("/usr/lib/systemd/system/trustedlaunch-server.service"));
            if (!stateExisted)
                Assert.False(Directory.Exists("/var/lib/trustedlaunch"), "purge removes the state");
        }
        finally
        {
            if (IsInstalled(DebianPackageFixture.Name) || Run("dpkg-query", "-W", "-f=${db:Status-Abbrev}", DebianPackageFixture.Name).StandardOutput.StartsWith('r'))
                Run("dpkg", "--purge", DebianPackageFixture.Name);
            if (!accountExisted && Run("getent", "passwd", Account).ExitCode == 0)
                Run("deluser", "--system", Account); // the package leaves its account, as Debian does; the test does not
            if (!accountExisted && Run("getent", "group", Account).ExitCode == 0)
                Run("delgroup", "--system", Account);
        }
    }

    // The installed tl as the package's account (what the unit's User= does): the service starts on a folder of its own,
    // answers health and metrics, logs JSON lines that carry the trace id of the caller's traceparent, stops on SIGTERM.
    private static async Task RunServiceAsTheAccountAsync()
    {
        string data = Path.Combine(RepositoryPaths.NewTempDirectory("tl-deb-run"), "data");
        Directory.CreateDirectory(data);
        Assert.Equal(0, Run("chown", "-R", $"{Account}:{Account}", Path.GetDirectoryName(data)!).ExitCode);
        var vmId = Guid.NewGuid();
        string[] asAccount = ["--reuid", Account, "--regid", Account, "--init-groups", "/usr/bin/tl"];
        ToolResult added = Run("setpriv", [.. asAccount, "server", "vm", "add", "--vm-id", vmId.ToString(), "--data", data]);
        Assert.True(added.ExitCode == 0, $"tl server vm add: {added}");

        string log = Path.Combine(Path.GetDirectoryName(data)!, "server.log");
        int port = FreePort();
        using DetachedProcess server = DetachedProcess.Start(ExternalTool.Require("setpriv"),
            [.. asAccount, "server", "--data", data, "--listen", $"http://127.0.0.1:{port}", "--no-local-host", "--log-format", "json"], log);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            await WaitForHealthAsync(http, server);
            string metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Contains("tl_vms", metrics, StringComparison.Ordinal);

            string traceId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            using var report = new HttpRequestMessage(HttpMethod.Post, $"/v1/vms/{vmId}/attestations:agent-unresponsive");
            report.Headers.Add("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))}-01");
            using HttpResponseMessage recorded = await http.SendAsync(report);
            Assert.Equal(HttpStatusCode.Created, recorded.StatusCode);

            JsonElement line = await WaitForLogLineAsync(log, e => e.TryGetProperty("EventId", out JsonElement id) && id.GetInt32() == 6005);
            Assert.Contains(traceId, line.GetProperty("Scopes").GetRawText(), StringComparison.Ordinal);
            Assert.Equal("Warning", line.GetProperty("LogLevel").GetString());

            await server.StopAsync(TimeSpan.FromSeconds(20)); // SIGTERM, then SIGKILL after the grace
            Assert.True(server.HasExited);
            Assert.Contains("Application is shutting down", File.ReadAllText(log), StringComparison.Ordinal);
        }
        finally
        {
            await server.KillAsync();
            Directory.Delete(Path.GetDirectoryName(data)!, recursive: true);
        }
    }

    private static async Task WaitForHealthAsync(HttpClient http, DetachedProcess server)
    {
        for (int i = 0; i < 300; i++)
        {
            Assert.False(server.HasExited, $"tl server ended: {server.StandardErrorTail}");
            try
            {
                using HttpResponseMessage health = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (health.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            await Task.Delay(200);
        }

        Assert.Fail($"tl server never answered /healthz: {server.StandardErrorTail}");
    }

    private static async Task<JsonElement> WaitForLogLineAsync(string log, Func<JsonElement, bool> match)
    {
        for (int i = 0; i < 100; i++)
        {
            foreach (string text in File.ReadAllLines(log).Where(l => l.StartsWith('{')))
            {
                JsonElement e = JsonDocument.Parse(text).RootElement.Clone();
                if (match(e))
                    return e;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"no such log line in:\n{File.ReadAllText(log)}");
        return default;
    }

    private static bool IsInstalled(string name) =>
        Run("dpkg-query", "-W", "-f=${db:Status-Abbrev}", name).StandardOutput.StartsWith("ii", StringComparison.Ordinal);

    private static ToolResult Run(string program, params string[] args) => ExternalTool.Run(program, args, timeout: TimeSpan.FromMinutes(5));

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
