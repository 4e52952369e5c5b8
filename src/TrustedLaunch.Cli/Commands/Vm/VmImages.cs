using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.Images;

namespace TrustedLaunch.Cli.Commands.Vm;

/// <summary>
/// <c>--image</c> as az reads it: an alias (<c>debian-12</c>: the platform's Generation 2 Debian 12, <c>debian-12-gen1</c>:
/// its Generation 1 build), a URN <c>publisher:offer:sku:version</c>, or an image resource id.
/// </summary>
internal static class VmImages
{
    public static IReadOnlyDictionary<string, string> Aliases { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["debian-12"] = $"{BuiltImages.Publisher}:{BuiltImages.Offer}:{BuiltImages.Sku(2)}:latest",
        ["debian-12-gen1"] = $"{BuiltImages.Publisher}:{BuiltImages.Offer}:{BuiltImages.Sku(1)}:latest",
    };

    public static ImageReference Parse(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.StartsWith('/'))
            return new ImageReference { Id = image };
        string urn = Aliases.TryGetValue(image, out string? known) ? known : image;
        string[] parts = urn.Split(':');
        if (parts.Length != 4 || parts.Any(p => p.Length == 0))
        {
            throw new CliException(ExitCode.BadInput,
                $"--image '{image}' is neither an alias ({string.Join(", ", Aliases.Keys)}) nor a URN publisher:offer:sku:version nor an image id.");
        }

        return new ImageReference { Publisher = parts[0], Offer = parts[1], Sku = parts[2], Version = parts[3] };
    }
}
