using TrustedLaunch.Interop.Swtpm;

namespace TrustedLaunch.Interop.Tests;

public sealed class SwtpmIoctlArgumentsTests
{
    [Fact]
    public void Parse_LibvirtStop_IsShutdownOverUnix()
    {
        SwtpmIoctlArguments a = SwtpmIoctlArguments.Parse(["--unix", "/run/x-swtpm.sock", "-s"]);
        Assert.Equal(SwtpmIoctlCommand.Shutdown, a.Command);
        Assert.Equal("/run/x-swtpm.sock", a.UnixPath);
    }

    [Theory]
    [InlineData(new[] { "--tcp", "127.0.0.1:2322", "-l", "3" }, SwtpmIoctlCommand.SetLocality, 3u)]
    [InlineData(new[] { "--tcp", "2322", "--info", "3" }, SwtpmIoctlCommand.GetInfo, 3u)]
    [InlineData(new[] { "--unix", "/s", "-e" }, SwtpmIoctlCommand.GetTpmEstablished, 0u)]
    [InlineData(new[] { "--unix", "/s", "--stop" }, SwtpmIoctlCommand.Stop, 0u)]
    public void Parse_Commands(string[] args, SwtpmIoctlCommand command, uint argument)
    {
        SwtpmIoctlArguments a = SwtpmIoctlArguments.Parse(args);
        Assert.Equal(command, a.Command);
        Assert.Equal(argument, a.Argument);
    }

    [Theory]
    [InlineData(new[] { "-s" }, "give one of --unix PATH or --tcp")]
    [InlineData(new[] { "--unix", "/s" }, "no command given")]
    [InlineData(new[] { "--unix", "/s", "-s", "-i" }, "one command per invocation")]
    [InlineData(new[] { "--tcp", "host:99999", "-s" }, "is not [HOST:]PORT")]
    [InlineData(new[] { "--unix", "/s", "-l", "x" }, "is not a number")]
    public void Parse_BadCommandLine_SaysWhat(string[] args, string message) =>
        Assert.Contains(message, Assert.Throws<SwtpmArgumentException>(() => SwtpmIoctlArguments.Parse(args)).Message, StringComparison.Ordinal);
}
