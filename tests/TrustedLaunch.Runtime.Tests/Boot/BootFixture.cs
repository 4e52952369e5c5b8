using TrustedLaunch.Images;
using TrustedLaunch.Images.Agent;
using TrustedLaunch.Runtime.Firmware;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Runtime.Tests.Boot;

/// <summary>Builds (or takes from the shared test cache) the guest images once for all boot tests.</summary>
public sealed class BootFixture
{
    private readonly Lazy<DebianImage> _trusted = new(() => Build(new DebianImageRequest()));
    private readonly Lazy<DebianImage> _unsignedGrub = new(() => Build(new DebianImageRequest { Untrusted = UntrustedComponent.Grub }));
    private readonly Lazy<string> _guestAgent = new(() => GuestAgentPublisher.Publish(RepositoryPaths.RepositoryRoot, Path.Combine(CacheRoot, "guest-agent")));
    private readonly Lazy<DebianImage> _withAgent;

    public BootFixture() => _withAgent = new(() => Build(new DebianImageRequest { GuestAgent = GuestAgent }));

    public DebianImage Trusted => _trusted.Value;

    public DebianImage UnsignedGrub => _unsignedGrub.Value;

    /// <summary>The NativeAOT <c>tl-guest-agent</c> published from this source tree (cached by source hash).</summary>
    public string GuestAgent => _guestAgent.Value;

    /// <summary>The trusted image with <see cref="GuestAgent"/> in it.</summary>
    public DebianImage WithAgent => _withAgent.Value;

    /// <summary>A private copy of Debian's Microsoft-keys variable store template.</summary>
    public static string MicrosoftVars()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory("tl-boot"), "vars.fd");
        File.Copy(OvmfFirmware.Locate(secureBoot: true).MicrosoftVarsTemplatePath, path);
        return path;
    }

    /// <summary>Builds <paramref name="request"/> into the shared test cache (TL_TEST_IMAGE_CACHE or /tmp/tl-test-images).</summary>
    public static DebianImage Build(DebianImageRequest request) => DebianImageBuilder.Build(request with
    {
        ImageCache = Path.Combine(CacheRoot, "images"),
        PackageCache = Path.Combine(CacheRoot, "debs"),
    });

    private static string CacheRoot => RepositoryPaths.TestImageCache;
}

/// <summary>Boots run one after another: two TCG guests at once on two cores only make both slower.</summary>
[CollectionDefinition(Name)]
public sealed class BootGroup : ICollectionFixture<BootFixture>
{
    public const string Name = "qemu boots";
}
