using TrustedLaunch.Testing;

namespace TrustedLaunch.Images.Tests;

/// <summary>
/// Builds the Debian guest images once per test run, into a cache that survives runs (TL_TEST_IMAGE_CACHE or
/// /tmp/tl-test-images), so a second run only resolves package versions and reuses the images.
/// </summary>
public sealed class GuestImageFixture
{
    private readonly Lazy<DebianImage> _signed;
    private readonly Lazy<DebianImage> _unsignedGrub;

    public GuestImageFixture()
    {
        _signed = new(() => Build(UntrustedComponent.None));
        _unsignedGrub = new(() => Build(UntrustedComponent.Grub));
    }

    public static string CacheRoot => RepositoryPaths.TestImageCache;

    public DebianImage Trusted => _signed.Value;

    public DebianImage UnsignedGrub => _unsignedGrub.Value;

    public static DebianImage Build(UntrustedComponent untrusted)
    {
        ExternalTool.Require("mformat");
        ExternalTool.Require("apt-get");
        return DebianImageBuilder.Build(new DebianImageRequest
        {
            Untrusted = untrusted,
            ImageCache = Path.Combine(CacheRoot, "images"),
            PackageCache = Path.Combine(CacheRoot, "debs"),
        });
    }
}

[CollectionDefinition(Name)]
public sealed class GuestImageGroup : ICollectionFixture<GuestImageFixture>
{
    public const string Name = "guest images";
}
