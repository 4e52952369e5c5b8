using TrustedLaunch.Images.Grub;
using TrustedLaunch.Images.Packages;

namespace TrustedLaunch.Images.Tests.Grub;

/// <summary>The image's grub.cfg: the loader commands, the command line, and that both choose the cached image.</summary>
public sealed class GrubConfigurationTests
{
    [Fact]
    public void Render_Linux_IsTheDefaultImagesMenuEntryByteForByte()
    {
        // The default image's grub.cfg is measured into PCR 9: it must not change under VMs that learned a baseline from it.
        Assert.Equal("set timeout=0\nmenuentry \"TrustedLaunch debian-12\" {\n  linux /vmlinuz console=ttyS0 quiet panic=-1\n  initrd /initrd.gz\n}\n",
            GrubConfiguration.Render("TrustedLaunch debian-12", GrubKernelLoader.Linux, DebianImageRequest.DefaultKernelCommandLine));
    }

    [Fact]
    public void Render_LinuxEfi_LoadsKernelAndInitramfsWithTheEfiCommands()
    {
        string config = GrubConfiguration.Render("t", GrubKernelLoader.LinuxEfi, "console=ttyS0 mitigations=off");
        Assert.Contains("\n  linuxefi /vmlinuz console=ttyS0 mitigations=off\n  initrdefi /initrd.gz\n", config, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("LF", "console=ttyS0\n  linux /evil")]
    [InlineData("CR", "console=ttyS0\rlinux /evil")]
    public void Render_CommandLineWithLineBreak_RefusedAsBadInput(string label, string commandLine)
    {
        var e = Assert.Throws<ImageException>(() => GrubConfiguration.Render("t", GrubKernelLoader.Linux, commandLine));
        Assert.True(e.Failure == ImageFailure.BadInput, label);
    }

    [Fact]
    public void CacheKey_OtherLoaderOrCommandLine_AnotherImage()
    {
        DebianPackage[] packages = [new("grub-efi-amd64-signed", "1+2.06+13+deb12u2")];
        var plain = new DebianImageRequest();
        string[] keys =
        [
            DebianImageBuilder.CacheKey(packages, plain, null),
            DebianImageBuilder.CacheKey(packages, plain with { KernelLoader = GrubKernelLoader.LinuxEfi }, null),
            DebianImageBuilder.CacheKey(packages, plain with { KernelCommandLine = $"{DebianImageRequest.DefaultKernelCommandLine} mitigations=off" }, null),
        ];
        Assert.Equal(3, keys.Distinct().Count());
        Assert.Equal(keys[0], DebianImageBuilder.CacheKey(packages, new DebianImageRequest(), null));
    }
}
