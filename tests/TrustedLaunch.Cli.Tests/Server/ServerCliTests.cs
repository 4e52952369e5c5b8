using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Server;

/// <summary><c>tl server</c> and <c>tl server vm …</c> through the real CLI process: exit codes, registry, start and SIGTERM.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class ServerCliTests : IDisposable
{
    private readonly string _directory = RepositoryPaths.NewTempDirectory("tl-server-cli");

    private string Data => Path.Combine(_directory, "data");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static ToolResult Tl(params string[] args) => TlRun.InProcess(args);

    private static void ExpectExit(ToolResult result, int code) => Assert.True(result.ExitCode == code, $"expected exit {code}\n{result}");

    [Fact]
    public void VmAddListRemove_RegistryRoundTrip_ExitCodes()
    {
        string vm = Guid.NewGuid().ToString();

        ExpectExit(Tl("server", "vm", "add", "--data", Data, "--vm-id", vm), 0);
        ToolResult list = Tl("server", "vm", "list", "--data", Data, "--json");
        ExpectExit(list, 0);
        using (JsonDocument json = JsonDocument.Parse(list.StandardOutput))
            Assert.Equal(vm, Assert.Single(json.RootElement.EnumerateArray().ToArray()).GetProperty("vmId").GetString());
        ExpectExit(Tl("server", "vm", "remove", "--data", Data, "--vm-id", vm), 0);
        ExpectExit(Tl("server", "vm", "remove", "--data", Data, "--vm-id", vm), 1);
    }

    [Fact]
    public void VmAdd_WithPlatformCa_StoresItsAkCa()
    {
        string ca = Path.Combine(_directory, "ca");
        ExpectExit(Tl("ca", "init", ca), 0);

        ToolResult added = Tl("server", "vm", "add", "--data", Data, "--vm-id", Guid.NewGuid().ToString(), "--ca", ca, "--json");

        ExpectExit(added, 0);
        using JsonDocument json = JsonDocument.Parse(added.StandardOutput);
        Assert.True(json.RootElement.GetProperty("ownAkCa").GetBoolean());
    }

    [Theory]
    [InlineData("vm-cli-1", null)]
    [InlineData("6f1c2b3a4d5e4f608a7b9c0d1e2f3a4b", null)]
    [InlineData("6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b", "/nonexistent/ca")]
    public void VmAdd_BadVmIdOrCa_Exit2(string vmId, string? ca)
    {
        ToolResult result = ca is null
            ? Tl("server", "vm", "add", "--data", Data, "--vm-id", vmId)
            : Tl("server", "vm", "add", "--data", Data, "--vm-id", vmId, "--ca", ca);

        ExpectExit(result, 2);
    }

    [Fact]
    public void Policy_AddShowAssignRemove_ExitCodes()
    {
        string vm = Guid.NewGuid().ToString();
        string policy = Path.Combine(_directory, "strict.json");
        File.WriteAllText(policy, """{"name":"strict","requireDefaultSecureBootKeys":true}""");

        ExpectExit(Tl("server", "policy", "add", "--data", Data, "--file", policy), 0);
        ExpectExit(Tl("server", "vm", "add", "--data", Data, "--vm-id", vm, "--policy", "absent"), 1);
        ToolResult added = Tl("server", "vm", "add", "--data", Data, "--vm-id", vm, "--policy", "strict", "--json");
        ExpectExit(added, 0);
        using (JsonDocument json = JsonDocument.Parse(added.StandardOutput))
            Assert.Equal("strict", json.RootElement.GetProperty("policy").GetString());
        ToolResult shown = Tl("server", "policy", "show", "strict", "--data", Data, "--json");
        ExpectExit(shown, 0);
        using (JsonDocument json = JsonDocument.Parse(shown.StandardOutput))
        {
            Assert.Equal(vm, Assert.Single(json.RootElement.GetProperty("vms").EnumerateArray().ToArray()).GetString());
            // Stored with the rules it leaves out at their defaults: Secure Boot is still required.
            Assert.True(json.RootElement.GetProperty("policy").GetProperty("requireSecureBoot").GetBoolean());
        }

        ToolResult inUse = Tl("server", "policy", "remove", "strict", "--data", Data);
        ExpectExit(inUse, 2);
        Assert.Contains(vm, inUse.StandardError, StringComparison.Ordinal);
        ExpectExit(Tl("server", "vm", "set-policy", "--data", Data, "--vm-id", vm, "--none"), 0);
        ExpectExit(Tl("server", "policy", "remove", "strict", "--data", Data), 0);
        ExpectExit(Tl("server", "policy", "show", "strict", "--data", Data), 1);
        ExpectExit(Tl("server", "policy", "remove", "strict", "--data", Data), 1);
        ToolResult list = Tl("server", "policy", "list", "--data", Data, "--json");
        ExpectExit(list, 0);
        Assert.Equal(0, JsonDocument.Parse(list.StandardOutput).RootElement.GetArrayLength());
    }

    [Fact]
    public void Policy_AddReplacesAndSetPolicySwitches()
    {
        string vm = Guid.NewGuid().ToString();
        string policy = Path.Combine(_directory, "p.json");
        File.WriteAllText(policy, """{"name":"p"}""");
        ExpectExit(Tl("server", "policy", "add", "--data", Data, "--file", policy), 0);
        File.WriteAllText(policy, """{"name":"p","allowKernelDebug":true}""");

        ToolResult replaced = Tl("server", "policy", "add", "--data", Data, "--file", policy);
        ExpectExit(Tl("server", "vm", "add", "--data", Data, "--vm-id", vm), 0);
        ExpectExit(Tl("server", "vm", "set-policy", "--data", Data, "--vm-id", vm, "--policy", "p"), 0);
        ToolResult vms = Tl("server", "vm", "list", "--data", Data, "--json");

        ExpectExit(replaced, 0);
        Assert.Contains("Replaced policy p", replaced.StandardOutput, StringComparison.Ordinal);
        ExpectExit(vms, 0);
        using JsonDocument json = JsonDocument.Parse(vms.StandardOutput);
        Assert.Equal("p", Assert.Single(json.RootElement.EnumerateArray().ToArray()).GetProperty("policy").GetString());
        ToolResult shown = Tl("server", "policy", "show", "p", "--data", Data, "--json");
        using JsonDocument policyJson = JsonDocument.Parse(shown.StandardOutput);
        Assert.True(policyJson.RootElement.GetProperty("policy").GetProperty("allowKernelDebug").GetBoolean());
    }

    [Theory]
    [InlineData("not JSON", "{\"name\":", "not a reference policy")]
    [InlineData("bad regex", """{"name":"p","kernelCommandLinePattern":"("}""", "kernelCommandLinePattern")]
    [InlineData("misspelt rule", """{"name":"p","requireSecureBot":true}""", "'requireSecureBot' could not be mapped")]
    [InlineData("reserved name", """{"name":"minimum"}""", "built-in")]
    public void PolicyAdd_InvalidFile_Exit2WithReason(string label, string content, string reason)
    {
        string policy = Path.Combine(_directory, "bad.json");
        File.WriteAllText(policy, content);

        ToolResult result = Tl("server", "policy", "add", "--data", Data, "--file", policy);

        ExpectExit(result, 2);
        Assert.True(result.StandardError.Contains(reason, StringComparison.Ordinal), $"{label}: {result}");
    }

    [Theory]
    [InlineData("--policy", "p", "--none")]
    [InlineData("--policy", "bad name", null)]
    [InlineData(null, null, null)]
    public void VmSetPolicy_BadOptions_Exit2(string? option, string? value, string? none)
    {
        string[] args = new[] { "server", "vm", "set-policy", "--data", Data, "--vm-id", Guid.NewGuid().ToString(), option, value, none }
            .OfType<string>().ToArray();

        ExpectExit(Tl(args), 2);
    }

    [Fact]
    public void VmSetPolicy_UnknownVmOrPolicy_Exit1()
    {
        string vm = Guid.NewGuid().ToString();
        ExpectExit(Tl("server", "vm", "add", "--data", Data, "--vm-id", vm), 0);

        ExpectExit(Tl("server", "vm", "set-policy", "--data", Data, "--vm-id", vm, "--policy", "absent"), 1);
        ExpectExit(Tl("server", "vm", "set-policy", "--data", Data, "--vm-id", Guid.NewGuid().ToString(), "--none"), 1);
    }

    [Theory]
    [InlineData("--listen", "https://127.0.0.1:0")]
    [InlineData("--token-alg", "HS256")]
    [InlineData("--ca", "/nonexistent/ca")]
    [InlineData("--nonce-lifetime", "0")]
    public void Server_BadOption_Exit2(string option, string value)
    {
        ExpectExit(Tl("server", "--data", Data, option, value), 2);
    }

    [Fact]
    public void Server_DatabaseFromNewerVersion_Exit3()
    {
        ExpectExit(Tl("server", "vm", "add", "--data", Data, "--vm-id", Guid.NewGuid().ToString()), 0);
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(Data, "tl.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES (999, 0)";
            command.ExecuteNonQuery();
        }

        ExpectExit(Tl("server", "--data", Data, "--listen", "http://127.0.0.1:0"), 3);
    }

    /// <summary>End to end: the real binary, stopped by a real SIGTERM.</summary>
    [IntegrationTest]
    [Fact]
    public async Task Server_StartsOnFreePort_ServesAndStopsCleanlyOnSigterm()
    {
        string vm = Guid.NewGuid().ToString();
        ExpectExit(Tl("server", "vm", "add", "--data", Data, "--vm-id", vm), 0);
        var psi = new ProcessStartInfo(ExternalTool.Require("dotnet"))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { TlRun.BinaryPath, "server", "--data", Data, "--listen", "http://127.0.0.1:0" })
            psi.ArgumentList.Add(a);
        using Process server = Process.Start(psi)!;
        Task<string> stdout = server.StandardOutput.ReadToEndAsync();
        try
        {
            Uri address = await ReadListeningAddressAsync(server.StandardError, TimeSpan.FromSeconds(60));
            using var client = new HttpClient { BaseAddress = address };

            JsonElement health = await client.GetFromJsonAsync<JsonElement>("/healthz");
            using HttpResponseMessage challenge = await client.PostAsync($"/v1/vms/{vm}/challenges", null);

            Assert.Equal("ok", health.GetProperty("status").GetString());
            Assert.Equal(System.Net.HttpStatusCode.Created, challenge.StatusCode);
            string nonce = (await challenge.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("nonce").GetString()!;
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Data, "token-signing-es256.pem")));
            ExpectExit(ExternalTool.Run("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]), 0);
            Assert.True(server.WaitForExit(TimeSpan.FromSeconds(30)), "tl server did not stop on SIGTERM");
            Assert.Equal(0, server.ExitCode);
            // No secrets in the logs: the nonce handed out never appears in the service's output.
            string output = await stdout + await server.StandardError.ReadToEndAsync();
            Assert.Contains("listening", output, StringComparison.Ordinal);
            Assert.DoesNotContain(nonce, output, StringComparison.Ordinal);
        }
        finally
        {
            if (!server.HasExited)
                server.Kill(entireProcessTree: true);
        }
    }

    private static async Task<Uri> ReadListeningAddressAsync(StreamReader stderr, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var seen = new System.Text.StringBuilder();
        while (await stderr.ReadLineAsync(cts.Token) is string line)
        {
            seen.AppendLine(line);
            Match match = ListeningLine().Match(line);
            if (match.Success)
                return new Uri(match.Groups[1].Value);
        }

        throw new InvalidOperationException($"tl server exited without listening:\n{seen}");
    }

    [GeneratedRegex(@"^tl server: listening on (http://[^ ,;]+)")]
    private static partial Regex ListeningLine();
}
