using TrustedLaunch.Images;
using TrustedLaunch.Runtime.Firmware;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Runtime.Tests.Boot;

/// <summary>Builds (or takes from the shared test cache) the guest images once for all boot tests.</summary>
public sealed class BootFixture
{
    private readonly Lazy<DebianImage> _trusted = new(() => Build(UntrustedComponent.None));
    private readonly Lazy<DebianImage> _unsignedGrub = new(() => Build(UntrustedComponent.Grub));

    public DebianImage Trusted => _trusted.Value;

    public DebianImage UnsignedGrub => _unsignedGrub.Value;

    /// <summary>A private copy of Debian's Microsoft-keys variable store template.</summary>
    public static string MicrosoftVars()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory("tl-boot"), "vars.fd");
        File.Copy(OvmfFirmware.Locate(secureBoot: true).MicrosoftVarsTemplatePath, path);
        return path;
    }

    private static DebianImage Build(UntrustedComponent untrusted)
    {
        string cache = Environment.GetEnvironmentVariable("TL_TEST_IMAGE_CACHE") is { Length: > 0 } dir ? dir : Path.Combine(Path.GetTempPath(), "tl-test-images");
        return DebianImageBuilder.Build(new DebianImageRequest
        {
            Untrusted = untrusted,
            ImageCache = Path.Combine(cache, "images"),
            PackageCache = Path.Combine(cache, "debs"),
        });
    }
}

/// <summary>Boots run one after another: two TCG guests at once on two cores only make both slower.</summary>
[CollectionDefinition(Name)]
public sealed class BootGroup : ICollectionFixture<BootFixture>
{
    public const string Name = "qemu boots";
}
