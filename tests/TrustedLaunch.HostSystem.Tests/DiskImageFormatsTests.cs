using TrustedLaunch.Testing;

namespace TrustedLaunch.HostSystem.Tests;

public sealed class DiskImageFormatsTests : IDisposable
{
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-diskfmt");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(new byte[] { 0x51, 0x46, 0x49, 0xFB, 0, 0, 0, 3 }, DiskImageFormat.Qcow2)]
    [InlineData(new byte[] { 0xEB, 0x3C, 0x90, 0x6D }, DiskImageFormat.Raw)]
    [InlineData(new byte[] { 0x51, 0x46, 0x49 }, DiskImageFormat.Raw)]
    [InlineData(new byte[0], DiskImageFormat.Raw)]
    public void Detect_Magic_GivesTheFormat(byte[] head, DiskImageFormat expected)
    {
        string path = Path.Combine(_dir, "disk");
        File.WriteAllBytes(path, head);
        Assert.Equal(expected, DiskImageFormats.Detect(path));
    }

    [Theory]
    [InlineData(DiskImageFormat.Raw, "raw")]
    [InlineData(DiskImageFormat.Qcow2, "qcow2")]
    public void QemuName_IsWhatQemuImgTakes(DiskImageFormat format, string expected) => Assert.Equal(expected, format.QemuName());
}
