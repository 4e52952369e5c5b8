using System.Text.Json;
using TrustedLaunch.Interop.Swtpm;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Interop.Tests;

public sealed class SwtpmCapabilityDocumentTests
{
    [Fact]
    public void Socket_IsSwtpmShapedJson()
    {
        using JsonDocument doc = JsonDocument.Parse(SwtpmCapabilityDocument.Socket("1.2.3"));
        Assert.Equal("swtpm", doc.RootElement.GetProperty("type").GetString());
        Assert.Equal(SwtpmCapabilityDocument.SocketFeatures, doc.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetString()!).ToArray());
        Assert.Equal("0.7.1", doc.RootElement.GetProperty("version").GetString());
        Assert.Equal("1.2.3", doc.RootElement.GetProperty("tl-vtpm").GetProperty("version").GetString());
        Assert.DoesNotContain("tpm-1.2", SwtpmCapabilityDocument.SocketFeatures);
    }

    [Fact]
    public void Setup_IsSwtpmSetupShapedJson()
    {
        using JsonDocument doc = JsonDocument.Parse(SwtpmCapabilityDocument.Setup("1.2.3"));
        Assert.Equal("swtpm_setup", doc.RootElement.GetProperty("type").GetString());
        Assert.Contains("tpm-2.0", doc.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetString()));
        // Advertised: --reconfigure --pcr-banks works (libvirt sends it for <active_pcr_banks> on an existing TPM).
        Assert.Contains("cmdarg-reconfigure-pcr-banks", doc.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetString()));
        // Not advertised, so libvirt never sends --create-config-files; nor --migration to swtpm socket (no cmdarg-migration).
        Assert.DoesNotContain("cmdarg-create-config-files", SwtpmCapabilityDocument.SetupFeatures);
        Assert.DoesNotContain("cmdarg-migration", SwtpmCapabilityDocument.SocketFeatures);
    }

    /// <summary>The oracle: every feature we claim is spelled as the real swtpm 0.7 on this machine spells it, same line shape.</summary>
    [Theory]
    [IntegrationTest]
    [InlineData("swtpm", "socket")]
    [InlineData("swtpm_setup", null)]
    public void Features_AreNamedAsRealSwtpm(string program, string? verb)
    {
        ToolResult real = ExternalTool.Run(ExternalTool.Require(program), verb is null ? ["--print-capabilities"] : [verb, "--print-capabilities"]);
        Assert.Equal(0, real.ExitCode);
        using JsonDocument theirs = JsonDocument.Parse(real.StandardOutput);
        string ours = program == "swtpm" ? SwtpmCapabilityDocument.Socket("1") : SwtpmCapabilityDocument.Setup("1");
        using JsonDocument mine = JsonDocument.Parse(ours);
        Assert.Equal(theirs.RootElement.GetProperty("type").GetString(), mine.RootElement.GetProperty("type").GetString());
        var realFeatures = theirs.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetString()).ToHashSet();
        foreach (string feature in mine.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetString()!))
            Assert.Contains(feature, realFeatures);
        Assert.Equal(SwtpmCapabilityDocument.InterfaceVersion, theirs.RootElement.GetProperty("version").GetString());
        Assert.StartsWith("{ \"type\": ", real.StandardOutput, StringComparison.Ordinal);
        Assert.StartsWith("{ \"type\": ", ours, StringComparison.Ordinal);
    }
}
