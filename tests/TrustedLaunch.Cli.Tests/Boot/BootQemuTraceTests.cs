using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Boot;

public sealed class BootQemuTraceTests
{
    [Theory]
    [InlineData("tpm_*=on")]
    [InlineData("help")]
    [InlineData("tpm_*,,tpm_crb_*")]
    public void Boot_BadTracePattern_ExitsBadInputBeforeAnythingStarts(string pattern)
    {
        string dir = RepositoryPaths.NewTempDirectory();
        ToolResult result = TlRun.InProcess("boot", "--image", Path.Combine(dir, "none.raw"), "--vars", Path.Combine(dir, "none.fd"),
            "--qemu-trace", pattern, "--qemu-trace-file", Path.Combine(dir, "t.log"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("QEMU trace pattern", result.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "t.log")));
    }

    [Theory]
    [InlineData("--qemu-trace", "tpm_*", "--qemu-trace-file")]
    [InlineData("--qemu-trace-file", "t.log", "--qemu-trace")]
    public void Boot_TraceWithoutItsOtherHalf_ExitsBadInput(string given, string value, string missing)
    {
        string dir = RepositoryPaths.NewTempDirectory();
        ToolResult result = TlRun.InProcess("boot", "--image", Path.Combine(dir, "none.raw"), "--vars", Path.Combine(dir, "none.fd"), given, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(missing, result.StandardError, StringComparison.Ordinal);
    }
}
