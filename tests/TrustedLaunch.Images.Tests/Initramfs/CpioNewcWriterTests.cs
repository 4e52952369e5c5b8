using System.Text;
using TrustedLaunch.Images.Initramfs;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Images.Tests.Initramfs;

public sealed class CpioNewcWriterTests
{
    [IntegrationTest]
    [Fact]
    public void Write_ExtractedByGnuCpio_ContentsMatch()
    {
        using var archive = new MemoryStream();
        var writer = new CpioNewcWriter(archive);
        writer.AddDirectory("/etc");
        writer.AddFile("/etc/hello", Encoding.ASCII.GetBytes("hello, initramfs\n"));
        writer.AddFile("/odd", new byte[] { 1, 2, 3 }, 0x1ED);
        writer.AddSymlink("/link", "etc/hello");
        writer.Finish();
        Assert.Equal(0, archive.Length % 512);

        string dir = RepositoryPaths.NewTempDirectory();
        ToolResult result = ExternalTool.Run("cpio", ["-i", "-d", "--quiet", "--no-absolute-filenames"], workingDirectory: dir, standardInput: archive.ToArray());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hello, initramfs\n", File.ReadAllText(Path.Combine(dir, "etc/hello")));
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(Path.Combine(dir, "odd")));
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("cpio tests need Linux");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, File.GetUnixFileMode(Path.Combine(dir, "odd")));
        Assert.Equal("etc/hello", new FileInfo(Path.Combine(dir, "link")).LinkTarget);
    }

    [Fact]
    public void Write_SameInput_SameBytes()
    {
        static byte[] Make()
        {
            using var ms = new MemoryStream();
            var w = new CpioNewcWriter(ms);
            w.AddFile("/a", [9, 9]);
            w.AddCharDevice("/dev/console", 5, 1);
            w.Finish();
            return ms.ToArray();
        }

        Assert.Equal(Make(), Make());
    }
}
