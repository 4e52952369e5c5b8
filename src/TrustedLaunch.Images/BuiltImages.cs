using System.Globalization;
using System.Text.Json;
using TrustedLaunch.Images.Grub;

namespace TrustedLaunch.Images;

/// <summary>A built image as the platform's image catalog lists it: Azure's publisher/offer/sku/version for the disk.</summary>
public sealed record CatalogImage(string Publisher, string Offer, string Sku, string Version, string FilePath, int Generation);

/// <summary>
/// The images <c>tl image build</c> made that the platform offers as its Debian 12 images: in each generation the newest
/// default build (signed boot chain, the guest agent, the default command line), named as Azure names Debian 12
/// (<c>Debian:debian-12:12-gen2</c> for Generation 2, <c>Debian:debian-12:12</c> for Generation 1) with a version from its
/// build time (<c>12.YYYYMMDD.HHMM</c>: a later build is a higher version, so <c>latest</c> finds it).
/// </summary>
public static class BuiltImages
{
    public const string Publisher = "Debian";
    public const string Offer = "debian-12";

    /// <summary>The SKU of a generation: Azure's <c>12-gen2</c> and <c>12</c>.</summary>
    public static string Sku(int generation) => generation == 1 ? "12" : "12-gen2";

    /// <summary>The catalog entry for one image.</summary>
    public static CatalogImage Describe(DebianImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        DateTime built = File.GetLastWriteTimeUtc(image.RawPath);
        string version = string.Create(CultureInfo.InvariantCulture, $"12.{built:yyyyMMdd}.{built:HHmm}");
        return new CatalogImage(Publisher, Offer, Sku(image.Manifest.Generation), version, image.RawPath, image.Manifest.Generation);
    }

    /// <summary>The newest default build of each generation in <paramref name="imageCache"/> (none when nothing was built).</summary>
    public static IReadOnlyList<DebianImage> Latest(string imageCache)
    {
        if (!Directory.Exists(imageCache))
            return [];
        var newest = new Dictionary<int, DebianImage>();
        foreach (string manifestPath in Directory.EnumerateFiles(imageCache, $"{DebianImageBuilder.Distribution}-*.json"))
        {
            string raw = Path.ChangeExtension(manifestPath, ".raw");
            ImageManifest? manifest = TryRead(manifestPath);
            if (manifest is null || !File.Exists(raw) || !IsDefaultBuild(manifest))
                continue;
            var image = new DebianImage(raw, manifestPath, manifest, FromCache: true);
            if (!newest.TryGetValue(manifest.Generation, out DebianImage? known) || File.GetLastWriteTimeUtc(raw) > File.GetLastWriteTimeUtc(known.RawPath))
                newest[manifest.Generation] = image;
        }

        return [.. newest.OrderByDescending(p => p.Key).Select(p => p.Value)];
    }

    /// <summary>The build the platform offers: nothing left unsigned, the guest agent in, the default command line and loader.</summary>
    public static bool IsDefaultBuild(ImageManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return manifest.Untrusted == UntrustedComponent.None && manifest.GuestAgentSha256 is not null
            && manifest.KernelCommandLine == DebianImageRequest.DefaultKernelCommandLine && manifest.KernelLoader == GrubKernelLoader.Linux;
    }

    private static ImageManifest? TryRead(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), ImageJsonContext.Default.ImageManifest);
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null;
        }
    }
}
