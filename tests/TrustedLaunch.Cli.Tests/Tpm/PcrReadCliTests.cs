using System.Text.Json;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Swtpm;

namespace TrustedLaunch.Cli.Tests.Tpm;

public sealed class PcrReadCliTests
{
    [IntegrationTest]
    [Fact]
    public void PcrRead_Swtpm_AgreesWithTpm2PcrRead()
    {
        using var server = SwtpmProcess.Start();
        var extend = ExternalTool.Run("tpm2_pcrextend", ["16:sha256=" + new string('a', 64)], environment: server.ToolEnvironment);
        Assert.True(extend.ExitCode == 0, extend.ToString());
        var run = Tl(["tpm", "pcrread", "sha256:0,16+sha1:16", "--tcti", server.Tcti, "--json"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.StandardOutput);
        var values = doc.RootElement.EnumerateArray().ToDictionary(
            e => $"{e.GetProperty("bank").GetString()}:{e.GetProperty("index").GetInt32()}", e => e.GetProperty("value").GetString()!);
        Assert.Equal(3, values.Count);
        string tools = ExternalTool.Run("tpm2_pcrread", ["sha256:16"], environment: server.ToolEnvironment).StandardOutput;
        Assert.Contains("0x" + values["sha256:16"], tools, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(new string('0', 64), values["sha256:0"]);
    }

    [Fact]
    public void PcrRead_UnreachableTpmOrBadSelection_ExitThreeOrTwo()
    {
        var (port, _) = SwtpmProcess.FreePortPair();
        Assert.Equal(3, Tl(["tpm", "pcrread", "--tcti", $"swtpm:host=127.0.0.1,port={port}"]).ExitCode);
        Assert.Equal(2, Tl(["tpm", "pcrread", "md5:0", "--tcti", "swtpm"]).ExitCode);
        Assert.Equal(2, Tl(["tpm", "pcrread", "sha256:0", "--tcti", "tabrmd"]).ExitCode);
    }

    private static ToolResult Tl(string[] args) => TlRun.InProcess(args);
}
