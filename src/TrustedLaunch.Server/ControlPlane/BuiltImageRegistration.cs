using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Images;

namespace TrustedLaunch.Server.ControlPlane;

/// <summary>
/// Offers the Debian images <c>tl image build</c> made in the service's image folder (<see cref="BuiltImages"/>) in the
/// image catalog, at start-up and when an image is built (<c>tl image build</c> calls <see cref="RegisterAsync"/> on the
/// service's database). An image already registered (same file) is left as it is.
/// </summary>
public sealed class BuiltImageRegistration(ImageCatalogService catalog, IImageStore store)
{
    /// <summary>Registers <paramref name="image"/> unless its file is already in the catalog; returns its entry (or the failure).</summary>
    public async Task<ArmResult<ImageEntry>> RegisterAsync(DebianImage image, CancellationToken cancellationToken)
    {
        CatalogImage entry = BuiltImages.Describe(image);
        foreach (ImageEntry known in await store.ListAsync(entry.Publisher, entry.Offer, entry.Sku, cancellationToken))
        {
            if (known.FilePath == entry.FilePath)
                return ArmResult.Ok<ImageEntry>(known);
        }

        return await catalog.RegisterAsync(entry.Publisher, entry.Offer, entry.Sku, entry.Version, entry.FilePath, cancellationToken);
    }

    /// <summary>Registers the newest default build of each generation in <paramref name="imageCache"/>.</summary>
    public async Task<IReadOnlyList<ArmResult<ImageEntry>>> RegisterLatestAsync(string imageCache, CancellationToken cancellationToken)
    {
        var results = new List<ArmResult<ImageEntry>>();
        foreach (DebianImage image in BuiltImages.Latest(imageCache))
            results.Add(await RegisterAsync(image, cancellationToken));
        return results;
    }
}

/// <summary>At start-up: the built images of <see cref="AttestationServiceOptions.ImageCache"/> into the image catalog.</summary>
internal sealed class BuiltImageBootstrap(BuiltImageRegistration registration, AttestationServiceOptions options, ILogger<BuiltImageBootstrap> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.ImageCache is not string cache)
            return;
        foreach (ArmResult<ImageEntry> result in await registration.RegisterLatestAsync(cache, cancellationToken))
        {
            if (result.Value is ImageEntry entry)
                Log.ImageOffered(logger, entry.Urn, entry.Generation.ToString(), entry.FilePath);
            else
                Log.ImageNotOffered(logger, result.Failure!.Error.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
