using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>
/// The platform image catalog: registration (probing each disk for its generation and its Secure Boot verdict with
/// the Microsoft keys), Azure's listing under <c>…/locations/{loc}/publishers/{p}/artifacttypes/vmimage/offers/{o}/skus/{s}/versions</c>,
/// and the resolution of a VM's image reference. Images are platform-wide: every location lists the same ones.
/// </summary>
public sealed class ImageCatalogService(IImageStore store, IDiskImageProbe probe, TimeProvider time)
{
    /// <summary>Registers (or re-registers) a disk image under publisher/offer/sku/version.</summary>
    public async Task<ArmResult<ImageEntry>> RegisterAsync(string publisher, string offer, string sku, string version, string? filePath,
        CancellationToken cancellationToken)
    {
        foreach ((string member, string value) in new[] { ("publisher", publisher), ("offer", offer), ("sku", sku) })
        {
            if (!ArmNames.IsImageSegment(value))
                return ArmErrors.InvalidParameter($"The image {member} '{value}' is not valid: 1 to 64 letters, digits, '-', '_' or '.'.", member);
        }

        if (!ImageVersion.TryParse(version, out ImageVersion parsed))
            return ArmErrors.InvalidParameter($"The image version '{version}' is not valid: use Major.Minor.Build.", "version");
        if (string.IsNullOrWhiteSpace(filePath))
            return ArmErrors.MissingParameter("filePath", "properties.filePath");
        if (!Path.IsPathFullyQualified(filePath) || !File.Exists(filePath))
            return ArmErrors.InvalidParameter($"The disk image '{filePath}' is not an absolute path to a file the server can read.", "properties.filePath");
        ImageProbeResult found;
        try
        {
            found = await probe.ProbeAsync(filePath, cancellationToken);
        }
        catch (ImageProbeException e)
        {
            return ArmErrors.Fail(ArmErrors.BadRequest, "InvalidImage", $"The disk image '{filePath}' cannot be registered: {e.Message}", "properties.filePath");
        }

        var entry = new ImageEntry
        {
            Publisher = publisher, Offer = offer, Sku = sku, Version = parsed, FilePath = filePath,
            Generation = found.Generation, SecureBoot = found.SecureBoot, RegisteredAt = time.GetUtcNow(),
        };
        await store.SaveAsync(entry, cancellationToken);
        return ArmResult.Ok<ImageEntry>(entry);
    }

    /// <summary>Resolves a VM's image reference; an update that keeps its image resolves to what the VM was created from.</summary>
    public async Task<ImageLookup> LookupAsync(ImageReference? reference, VirtualMachineRecord? previous, CancellationToken cancellationToken)
    {
        if (reference is null)
            return new ImageLookup(ImageKind.None, null, null, null, null, null);
        if (reference.Id is string id)
            return new ImageLookup(ResourceIds.IsManagedImage(id) ? ImageKind.ManagedImage : ImageKind.OtherImage, null, id, null, null, null);
        string version = reference.Version ?? "latest";
        string urn = $"{reference.Publisher}:{reference.Offer}:{reference.Sku}:{version}";
        if (reference.Publisher is null || reference.Offer is null || reference.Sku is null)
            return new ImageLookup(ImageKind.Platform, urn, null, null, null, null);
        ImageReference? before = previous?.Model.Properties.StorageProfile?.ImageReference;
        if (previous is not null && before is not null && SameImage(reference, before))
            return new ImageLookup(ImageKind.Platform, urn, null, true, previous.Generation, before.ExactVersion);
        ImageEntry? entry = ImageEntry.Resolve(await store.ListAsync(reference.Publisher, reference.Offer, reference.Sku, cancellationToken), version);
        return new ImageLookup(ImageKind.Platform, urn, null, entry is not null, entry?.Generation, entry?.Version.ToString());
    }

    /// <summary>The registered entry a VM's image reference resolved to at creation (null when removed since).</summary>
    public async Task<ImageEntry?> FindExactAsync(ImageReference? reference, CancellationToken cancellationToken)
    {
        if (reference is not { Publisher: string p, Offer: string o, Sku: string s, ExactVersion: string exact })
            return null;
        return ImageEntry.Resolve(await store.ListAsync(p, o, s, cancellationToken), exact);
    }

    public async Task<IReadOnlyList<VirtualMachineImageResource>> ListVersionsAsync(string subscriptionId, string location, string publisher,
        string offer, string sku, CancellationToken cancellationToken) =>
        (await store.ListAsync(publisher, offer, sku, cancellationToken))
            .OrderBy(e => e.Version)
            .Select(e => new VirtualMachineImageResource
            {
                Id = ResourceIds.ImageVersion(subscriptionId, location, e.Publisher, e.Offer, e.Sku, e.Version.ToString()),
                Name = e.Version.ToString(),
                Location = location,
            })
            .ToArray();

    /// <summary>The publishers, offers of a publisher, or SKUs of an offer (each level of Azure's image listing).</summary>
    public async Task<IReadOnlyList<VirtualMachineImageResource>> ListLevelAsync(string subscriptionId, string location, string? publisher, string? offer,
        CancellationToken cancellationToken)
    {
        IEnumerable<ImageEntry> all = await store.ListAllAsync(cancellationToken);
        string root = $"/Subscriptions/{subscriptionId}/Providers/Microsoft.Compute/Locations/{location}/Publishers";
        if (publisher is null)
            return Distinct(all, e => e.Publisher, name => $"{root}/{name}", location);
        all = all.Where(e => e.Publisher.Equals(publisher, StringComparison.OrdinalIgnoreCase));
        if (offer is null)
            return Distinct(all, e => e.Offer, name => $"{root}/{publisher}/ArtifactTypes/VMImage/Offers/{name}", location);
        all = all.Where(e => e.Offer.Equals(offer, StringComparison.OrdinalIgnoreCase));
        return Distinct(all, e => e.Sku, name => $"{root}/{publisher}/ArtifactTypes/VMImage/Offers/{offer}/Skus/{name}", location);
    }

    public async Task<ArmResult<VirtualMachineImage>> GetVersionAsync(string subscriptionId, string location, string publisher, string offer, string sku,
        string version, CancellationToken cancellationToken)
    {
        ImageEntry? entry = ImageEntry.Resolve(await store.ListAsync(publisher, offer, sku, cancellationToken), version);
        if (entry is null)
            return ArmErrors.Fail(ArmErrors.NotFound, "NotFound", "Artifact: VMImage was not found.");
        return ArmResult.Ok<VirtualMachineImage>(View(subscriptionId, location, entry));
    }

    public static VirtualMachineImage View(string subscriptionId, string location, ImageEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        string name = entry.Version.ToString();
        return new VirtualMachineImage
        {
            Id = ResourceIds.ImageVersion(subscriptionId, location, entry.Publisher, entry.Offer, entry.Sku, name),
            Name = name,
            Location = location,
            Properties = new VirtualMachineImageProperties
            {
                HyperVGeneration = entry.Generation.ToString(),
                OsDiskImage = new OSDiskImage(),
                Features = entry.TrustedLaunchSupported ? [new ImageFeature("SecurityType", "TrustedLaunchSupported")] : [],
                SecureBootCheck = new ImageSecureBootCheck { Passes = entry.SecureBoot.Passes, Detail = entry.SecureBoot.Detail },
            },
        };
    }

    private static VirtualMachineImageResource[] Distinct(IEnumerable<ImageEntry> entries, Func<ImageEntry, string> name, Func<string, string> id,
        string location) =>
        entries.Select(name).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase)
            .Select(n => new VirtualMachineImageResource { Id = id(n), Name = n, Location = location })
            .ToArray();

    private static bool SameImage(ImageReference now, ImageReference before)
    {
        static bool Same(string? a, string? b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
        return Same(now.Publisher, before.Publisher) && Same(now.Offer, before.Offer) && Same(now.Sku, before.Sku)
            && (Same(now.Version ?? "latest", before.Version ?? "latest") || Same(now.Version, before.ExactVersion));
    }
}
