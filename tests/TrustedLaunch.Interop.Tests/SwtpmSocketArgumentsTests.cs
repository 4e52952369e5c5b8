using TrustedLaunch.Interop.Swtpm;

namespace TrustedLaunch.Interop.Tests;

public sealed class SwtpmSocketArgumentsTests
{
    /// <summary>The argv Debian bookworm's libvirt 9.0.0 passed to swtpm here (captured with a logging wrapper), verbatim.</summary>
    public static readonly string[] Libvirt9Argv =
    [
        "--ctrl", "type=unixio,path=/run/user/libvirt/qemu/run/swtpm/1-tlprobe-swtpm.sock,mode=0600",
        "--tpmstate", "dir=/home/u/.config/libvirt/qemu/swtpm/f0bca952-eb8b-45b9-8217-b5d13855005b/tpm2,mode=0600",
        "--log", "file=/home/u/.cache/libvirt/qemu/log/tlprobe-swtpm.log", "--terminate", "--tpm2",
    ];

    [Fact]
    public void Parse_Libvirt9Argv_ReadsEverything()
    {
        SwtpmSocketArguments a = SwtpmSocketArguments.Parse(Libvirt9Argv);
        Assert.True(a.Tpm2);
        Assert.True(a.Terminate);
        Assert.Equal("/run/user/libvirt/qemu/run/swtpm/1-tlprobe-swtpm.sock", a.Control!.UnixPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, a.Control.Mode);
        Assert.Equal("/home/u/.config/libvirt/qemu/swtpm/f0bca952-eb8b-45b9-8217-b5d13855005b/tpm2", a.StateDirectory);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, a.StateMode);
        Assert.Equal("/home/u/.cache/libvirt/qemu/log/tlprobe-swtpm.log", a.LogFile);
        Assert.Null(a.Server);
        Assert.Null(a.Key);
    }

    [Fact]
    public void Parse_EncryptedTpm_ReadsPassphraseFdsAndPid()
    {
        SwtpmSocketArguments a = SwtpmSocketArguments.Parse([.. Libvirt9Argv,
            "--key", "pwdfd=23,mode=aes-256-cbc", "--migration-key", "pwdfd=24,mode=aes-256-cbc", "--pid", "file=/run/x.pid",
            "--flags", "not-need-init,startup-clear", "--log", "file=/l,level=20"]);
        Assert.Equal(new SwtpmKeySource(SwtpmKeyKind.PassphraseFd, null, 23, "aes-256-cbc"), a.Key);
        Assert.Equal(24, a.MigrationKey!.Fd);
        Assert.Equal("/run/x.pid", a.PidFile);
        Assert.Equal(["not-need-init", "startup-clear"], a.Flags);
        Assert.Equal(20, a.LogLevel);
    }

    [Fact]
    public void Parse_BackendUriAndTcp_Accepted()
    {
        SwtpmSocketArguments a = SwtpmSocketArguments.Parse(["--tpm2", "--tpmstate", "backend-uri=dir:///var/lib/x", "--ctrl", "type=tcp,port=2322",
            "--server", "type=tcp,port=2321,bindaddr=127.0.0.1"]);
        Assert.Equal("/var/lib/x", a.StateDirectory);
        Assert.Equal(2322, a.Control!.TcpPort);
        Assert.Equal("127.0.0.1", a.Server!.BindAddress);
    }

    [Fact]
    public void Parse_PrintCapabilities_NeedsNothingElse() =>
        Assert.True(SwtpmSocketArguments.Parse(["--tpm2", "--print-capabilities"]).PrintCapabilities);

    [Theory]
    [InlineData("--daemon", "--daemon is not supported")]
    [InlineData("--migration", "--migration is not supported")]
    [InlineData("--print-states", "--print-states is not supported")]
    [InlineData("--bogus", "unknown option '--bogus'")]
    public void Parse_UnsupportedOption_RefusedByName(string option, string message)
    {
        string[] args = option == "--migration" ? [.. Libvirt9Argv, option, "incoming"] : [.. Libvirt9Argv, option];
        Assert.Contains(message, Assert.Throws<SwtpmArgumentException>(() => SwtpmSocketArguments.Parse(args)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--ctrl", "type=unixio,path=/s", "--tpmstate", "dir=/d" }, "--tpm2 is required")]
    [InlineData(new[] { "--tpm2", "--tpmstate", "dir=/d" }, "--ctrl is required")]
    [InlineData(new[] { "--tpm2", "--ctrl", "type=unixio,path=/s" }, "--tpmstate dir=DIR is required")]
    [InlineData(new[] { "--tpm2", "--ctrl", "type=unixio,clientfd=5", "--tpmstate", "dir=/d" }, "is not supported here")]
    [InlineData(new[] { "--tpm2", "--ctrl", "type=unixio,path=/s,mode=0999", "--tpmstate", "dir=/d" }, "not an octal file mode")]
    [InlineData(new[] { "--tpm2", "--ctrl", "type=unixio,path=/s", "--tpmstate", "backend-uri=file:///d" }, "is not dir://PATH")]
    [InlineData(new[] { "--tpm2", "--ctrl", "type=unixio,path=/s", "--tpmstate", "dir=/d", "--key", "pwdfd=3,mode=des" }, "cipher 'des'")]
    [InlineData(new[] { "--tpm2", "--ctrl", "type=unixio,path=/s", "--tpmstate", "dir=/d", "--log" }, "--log needs a value")]
    public void Parse_BadCommandLine_SaysWhat(string[] args, string message) =>
        Assert.Contains(message, Assert.Throws<SwtpmArgumentException>(() => SwtpmSocketArguments.Parse(args)).Message, StringComparison.Ordinal);
}
