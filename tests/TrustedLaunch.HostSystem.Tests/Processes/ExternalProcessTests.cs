using System.Text;
using TrustedLaunch.HostSystem.Processes;
using TrustedLaunch.Testing;

namespace TrustedLaunch.HostSystem.Tests.Processes;

[IntegrationTest]
public sealed class ExternalProcessTests
{
    [Fact]
    public void Run_CapturesStdoutStderrAndExitCode()
    {
        ProcessResult result = ExternalProcess.Run("sh", ["-c", "printf out; printf err >&2; exit 3"]);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out", result.StandardOutput);
        Assert.Equal("err", result.StandardError);
    }

    [Fact]
    public void Run_StandardInputEnvironmentAndWorkingDirectory_ReachTheChild()
    {
        string dir = Path.GetTempPath().TrimEnd('/');
        ProcessResult result = ExternalProcess.Run("sh", ["-c", "cat; printf \" $TL_TEST_VALUE \"; pwd"], new ProcessRunOptions
        {
            StandardInput = Encoding.ASCII.GetBytes("in"),
            Environment = new Dictionary<string, string> { ["TL_TEST_VALUE"] = "v" },
            WorkingDirectory = dir,
        });
        Assert.Equal($"in v {dir}\n", result.StandardOutput);
    }

    [Fact]
    public void Run_OutputOverTheLimit_Throws() =>
        Assert.Throws<ProcessOutputLimitException>(() => ExternalProcess.Run("sh", ["-c", "head -c 100000 /dev/zero"],
            new ProcessRunOptions { MaxStandardOutputBytes = 1000 }));

    [Fact]
    public void Run_StdoutCopy_StreamsInsteadOfCapturing()
    {
        using var copy = new StringWriter();
        ProcessResult result = ExternalProcess.Run("sh", ["-c", "echo progress"], new ProcessRunOptions { StandardOutputCopy = copy });
        Assert.Equal("progress\n", copy.ToString());
        Assert.Empty(result.StandardOutputBytes);
    }

    [Fact]
    public void Run_Timeout_KillsAndThrows() =>
        Assert.Throws<TimeoutException>(() => ExternalProcess.Run("sleep", ["30"], new ProcessRunOptions { Timeout = TimeSpan.FromMilliseconds(300) }));

    [Fact]
    public void Run_MissingProgram_ProgramStartException()
    {
        var e = Assert.Throws<ProgramStartException>(() => ExternalProcess.Run("tl-no-such-program", []));
        Assert.Equal("tl-no-such-program", e.Program);
    }

    [Fact]
    public void Run_OnLinuxWithSetpriv_ChildHasParentDeathSignal()
    {
        if (!OperatingSystem.IsLinux() || ExecutableSearch.Find("setpriv") is null)
            return;
        // /proc/self/status has no pdeathsig; setpriv --dump shows it for the process it runs in.
        ProcessResult result = ExternalProcess.Run("setpriv", ["--dump"]);
        Assert.Contains("Parent death signal: TERM", result.StandardOutput, StringComparison.Ordinal);
    }
}
