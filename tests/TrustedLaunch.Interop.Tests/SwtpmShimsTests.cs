using TrustedLaunch.Interop.Swtpm;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Interop.Tests;

public sealed class SwtpmShimsTests
{
    [Fact]
    public void Script_SwtpmSetup_CarriesThePlatformCa()
    {
        string script = SwtpmShims.Script("swtpm_setup", "/opt/tl/tl-vtpm", "/var/lib/tl/pki");
        Assert.StartsWith("#!/bin/sh\n", script, StringComparison.Ordinal);
        Assert.EndsWith("exec '/opt/tl/tl-vtpm' swtpm_setup --tl-platform-ca '/var/lib/tl/pki' \"$@\"\n", script, StringComparison.Ordinal);
        Assert.EndsWith("exec '/opt/tl/tl-vtpm' swtpm \"$@\"\n", SwtpmShims.Script("swtpm", "/opt/tl/tl-vtpm", "/x"), StringComparison.Ordinal);
    }

    [Fact]
    public void Quote_SingleQuoteInPath_StaysLiteral() => Assert.Equal("'/a/it'\\''s'", SwtpmShims.Quote("/a/it's"));

    /// <summary>The installed launchers are executable and pass libvirt's argv through unchanged (run by /bin/sh, echo in tl-vtpm's place).</summary>
    [Fact]
    [IntegrationTest]
    public void Install_ScriptsRunAndForwardArgv()
    {
        string dir = Path.Combine(RepositoryPaths.NewTempDirectory("tl-shims"), "bin with space");
        IReadOnlyList<string> written = SwtpmShims.Install(dir, "/bin/echo", "/p k i");
        Assert.Equal(["swtpm", "swtpm_setup", "swtpm_ioctl"], written.Select(Path.GetFileName));
        Assert.True(File.GetUnixFileMode(written[1]).HasFlag(UnixFileMode.OtherExecute));
        ToolResult result = ExternalTool.Run(written[1], ["--tpm2", "--vmid", "a b:c"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("swtpm_setup --tl-platform-ca /p k i --tpm2 --vmid a b:c\n", result.StandardOutput);
    }
}
