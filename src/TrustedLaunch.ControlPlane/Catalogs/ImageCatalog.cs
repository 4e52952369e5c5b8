using System.Globalization;

namespace TrustedLaunch.ControlPlane.Catalogs;

/// <summary>How a disk boots: V1 = BIOS from an MBR disk (Gen1), V2 = UEFI from a GPT disk with an EFI System Partition (Gen2).</summary>
public enum HyperVGeneration
{
    V1,
    V2,
}

/// <summary>An image version <c>Major.Minor.Build</c>, ordered numerically (so <c>latest</c> resolves to the highest).</summary>
public readonly record struct ImageVersion(int Major, int Minor, int Build) : IComparable<ImageVersion>
{
    public static bool TryParse(string? text, out ImageVersion version)
    {
        version = default;
        string[] parts = (text ?? "").Split('.');
        if (parts.Length != 3)
            return false;
        int[] numbers = new int[3];
        for (int i = 0; i < 3; i++)
        {
            if (parts[i].Length is 0 or > 10 || !int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
                return false;
        }

        version = new ImageVersion(numbers[0], numbers[1], numbers[2]);
        return true;
    }

    public int CompareTo(ImageVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major) : Minor != other.Minor ? Minor.CompareTo(other.Minor) : Build.CompareTo(other.Build);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Build}");

    public static bool operator <(ImageVersion left, ImageVersion right) => left.CompareTo(right) < 0;

    public static bool operator >(ImageVersion left, ImageVersion right) => left.CompareTo(right) > 0;

    public static bool operator <=(ImageVersion left, ImageVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >=(ImageVersion left, ImageVersion right) => left.CompareTo(right) >= 0;
}

/// <summary>
/// Whether a V2 image's boot loader passes Secure Boot with the Microsoft template's keys: <see cref="Passes"/> is
/// null when there was nothing to judge (a V1 image, or no ESP boot loader).
/// </summary>
public sealed record SecureBootFinding(bool? Passes, string Detail);

/// <summary>What probing a disk image finds.</summary>
public sealed record ImageProbeResult(HyperVGeneration Generation, SecureBootFinding SecureBoot);

/// <summary>
/// Inspects a disk image: its boot layout (MBR/BIOS or GPT + ESP) and, for V2, the firmware's Secure Boot decision on
/// its boot loader with the Microsoft keys. Implemented by the host that has the image and Secure Boot libraries.
/// </summary>
public interface IDiskImageProbe
{
    /// <exception cref="ImageProbeException">The file is not a disk image this platform can boot.</exception>
    Task<ImageProbeResult> ProbeAsync(string path, CancellationToken cancellationToken);
}

/// <summary>A disk image cannot be read or has neither boot layout.</summary>
public sealed class ImageProbeException : Exception
{
    public ImageProbeException() { }

    public ImageProbeException(string message) : base(message) { }

    public ImageProbeException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>A registered platform image version.</summary>
public sealed record ImageEntry
{
    public required string Publisher { get; init; }

    public required string Offer { get; init; }

    public required string Sku { get; init; }

    public required ImageVersion Version { get; init; }

    /// <summary>The disk image file (raw or qcow2) a host copies a new VM's OS disk from.</summary>
    public required string FilePath { get; init; }

    public required HyperVGeneration Generation { get; init; }

    public required SecureBootFinding SecureBoot { get; init; }

    public required DateTimeOffset RegisteredAt { get; init; }

    /// <summary>Trusted Launch needs a Gen2 (UEFI) image, as Azure's <c>SecurityType: TrustedLaunchSupported</c> says.</summary>
    public bool TrustedLaunchSupported => Generation == HyperVGeneration.V2;

    /// <summary><c>publisher:offer:sku:version</c>, as az CLI spells an image URN.</summary>
    public string Urn => $"{Publisher}:{Offer}:{Sku}:{Version}";

    /// <summary>The entry <paramref name="version"/> names among <paramref name="entries"/> (one publisher/offer/sku): <c>latest</c> is the highest.</summary>
    public static ImageEntry? Resolve(IReadOnlyList<ImageEntry> entries, string version)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (version.Equals("latest", StringComparison.OrdinalIgnoreCase))
            return entries.Count == 0 ? null : entries.MaxBy(e => e.Version);
        return ImageVersion.TryParse(version, out ImageVersion wanted) ? entries.FirstOrDefault(e => e.Version == wanted) : null;
    }
}
