using TrustedLaunch.Images.Initramfs;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Images.Tests.Initramfs;

[Collection(GuestImageGroup.Name)]
public sealed class KernelModuleInfoTests(GuestImageFixture images)
{
    [IntegrationTest]
    [Fact]
    public void ReadDependencies_RealDebianModules_MatchTheirModinfo()
    {
        _ = images.Trusted; // makes sure the linux-image .deb is in the cache
        string root = RepositoryPaths.NewTempDirectory();
        string deb = Directory.GetFiles(Path.Combine(GuestImageFixture.CacheRoot, "debs"), "linux-image-*.deb").Single();
        ExternalTool.Run("dpkg-deb", ["-x", deb, root]);
        string kernel = Directory.GetDirectories(Path.Combine(root, "lib/modules")).Single();
        byte[] console = File.ReadAllBytes(Path.Combine(kernel, "kernel/drivers/char/virtio_console.ko"));
        Assert.Equal(["virtio", "virtio_ring"], KernelModuleInfo.ReadDependencies(console).Order(StringComparer.Ordinal));
        Assert.Contains("license=GPL", KernelModuleInfo.ReadModInfo(console));
        Assert.Empty(KernelModuleInfo.ReadDependencies(File.ReadAllBytes(Path.Combine(kernel, "kernel/drivers/input/evdev.ko"))));

        IReadOnlyList<string> order = GuestInitramfs.ResolveLoadOrder(GuestInitramfs.RequiredModules,
            name => File.ReadAllBytes(Directory.GetFiles(Path.Combine(kernel, "kernel"), name + ".ko", SearchOption.AllDirectories).Single()));
        Assert.True(order.ToList().IndexOf("virtio") < order.ToList().IndexOf("virtio_pci"));
        Assert.True(order.ToList().IndexOf("virtio_ring") < order.ToList().IndexOf("virtio_console"));
        // The NIC driver after what its .modinfo names: net_failover, which itself needs failover.
        Assert.True(order.ToList().IndexOf("failover") < order.ToList().IndexOf("net_failover"));
        Assert.True(order.ToList().IndexOf("net_failover") < order.ToList().IndexOf("virtio_net"));
    }

    [Fact]
    public void ReadModInfo_NotElf_Throws()
    {
        Assert.Throws<ImageException>(() => KernelModuleInfo.ReadModInfo(new byte[128]));
    }
}
