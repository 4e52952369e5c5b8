using TrustedLaunch.ControlPlane.Catalogs;

namespace TrustedLaunch.ControlPlane.Tests;

public sealed class CatalogTests
{
    // The series the issue lists as Trusted Launch capable, and the unsupported examples.
    [Theory]
    [InlineData("B")]
    [InlineData("Dav4")]
    [InlineData("Dasv4")]
    [InlineData("DCsv2")]
    [InlineData("Dv4")]
    [InlineData("Dsv4")]
    [InlineData("Dsv3")]
    [InlineData("Dsv2")]
    [InlineData("Ddv4")]
    [InlineData("Ddsv4")]
    [InlineData("Fsv2")]
    [InlineData("Eav4")]
    [InlineData("Easv4")]
    [InlineData("Ev4")]
    [InlineData("Esv4")]
    [InlineData("Esv3")]
    [InlineData("Edv4")]
    [InlineData("Edsv4")]
    [InlineData("Lsv2")]
    public void Default_TrustedLaunchSeries_PresentAndSupported(string series)
    {
        VmSize[] sizes = SizeCatalog.Default.Sizes.Where(s => s.Series == series).ToArray();

        Assert.NotEmpty(sizes);
        Assert.All(sizes, s => Assert.True(s.TrustedLaunch, s.Name));
    }

    [Theory]
    [InlineData("Av2")]
    [InlineData("Dv2")]
    [InlineData("M")]
    public void Default_UnsupportedSeries_PresentAndRefusingTrustedLaunch(string series)
    {
        VmSize[] sizes = SizeCatalog.Default.Sizes.Where(s => s.Series == series).ToArray();

        Assert.NotEmpty(sizes);
        Assert.All(sizes, s => Assert.False(s.TrustedLaunch, s.Name));
    }

    [Theory]
    [InlineData("Standard_B1ls", 1, 512)]
    [InlineData("Standard_B2s", 2, 4096)]
    [InlineData("Standard_D2s_v3", 2, 8192)]
    [InlineData("Standard_DS1_v2", 1, 3584)]
    [InlineData("Standard_E64s_v3", 64, 442368)]
    [InlineData("Standard_F72s_v2", 72, 147456)]
    [InlineData("Standard_L80s_v2", 80, 655360)]
    [InlineData("Standard_A4_v2", 4, 8192)]
    [InlineData("Standard_M8ms", 8, 224000)]
    public void Find_KnownSize_AzureFigures(string name, int vCpus, int memoryInMB)
    {
        VmSize size = SizeCatalog.Default.Find(name.ToUpperInvariant())!;

        Assert.Equal(name, size.Name);
        Assert.Equal(vCpus, size.VCpus);
        Assert.Equal(memoryInMB, size.MemoryInMB);
    }

    [Fact]
    public void Default_NamesUniqueAndFiguresPositive()
    {
        Assert.Equal(SizeCatalog.Default.Sizes.Count, SizeCatalog.Default.Sizes.Select(s => s.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(SizeCatalog.Default.Sizes, s => Assert.True(s.VCpus > 0 && s.MemoryInMB >= 512 && s.Name.StartsWith("Standard_", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("1.2.3", true)]
    [InlineData("2024.10.0", true)]
    [InlineData("1.2", false)]
    [InlineData("1.2.x", false)]
    [InlineData("-1.2.3", false)]
    [InlineData("latest", false)]
    public void ImageVersion_TryParse(string text, bool valid) => Assert.Equal(valid, ImageVersion.TryParse(text, out _));

    [Fact]
    public void Resolve_Latest_HighestNumerically()
    {
        ImageEntry[] entries = [Entry("1.9.0"), Entry("1.10.0"), Entry("1.2.30")];

        Assert.Equal("1.10.0", ImageEntry.Resolve(entries, "latest")!.Version.ToString());
        Assert.Equal("1.2.30", ImageEntry.Resolve(entries, "1.2.30")!.Version.ToString());
        Assert.Null(ImageEntry.Resolve(entries, "9.9.9"));
        Assert.Null(ImageEntry.Resolve([], "latest"));
    }

    private static ImageEntry Entry(string version) => new()
    {
        Publisher = "p", Offer = "o", Sku = "s", Version = ImageVersion.TryParse(version, out ImageVersion v) ? v : default, FilePath = "/x",
        Generation = HyperVGeneration.V2, SecureBoot = new SecureBootFinding(true, "ok"), RegisteredAt = DateTimeOffset.UnixEpoch,
    };
}
