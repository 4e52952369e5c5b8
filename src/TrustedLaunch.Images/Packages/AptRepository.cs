using System.Text.RegularExpressions;

namespace TrustedLaunch.Images.Packages;

/// <summary>
/// Resolves, downloads and unpacks Debian packages with apt's own tools, without installing anything and without
/// root: <c>apt-cache</c> for versions, <c>apt-get download</c> for the .deb, <c>dpkg-deb -x</c> to unpack.
/// Downloads are cached by file name (which carries the version), so a second build touches the network only to
/// resolve versions.
/// </summary>
public sealed partial class AptRepository(string cacheDirectory)
{
    public string CacheDirectory { get; } = cacheDirectory;

    /// <summary>The candidate version apt would install for <paramref name="name"/>.</summary>
    public static DebianPackage Resolve(string name)
    {
        string output = ExternalCommand.Run("apt-cache", "apt", ["show", "--no-all-versions", name]);
        Match m = VersionField().Match(output);
        if (!m.Success)
        {
            throw new ImageException(ImageFailure.Environment,
                $"apt knows no package '{name}'; run 'apt-get update' (the Debian 12 main archive must be configured).");
        }

        return new DebianPackage(name, m.Groups[1].Value.Trim());
    }

    /// <summary>The package a metapackage depends on whose name starts with <paramref name="prefix"/> (linux-image-amd64 → linux-image-6.1.0-N-amd64).</summary>
    public static string ResolveDependency(string metapackage, string prefix)
    {
        string output = ExternalCommand.Run("apt-cache", "apt", ["depends", metapackage]);
        foreach (string line in output.Split('\n'))
        {
            string trimmed = line.Trim();
            if (trimmed.StartsWith("Depends: ", StringComparison.Ordinal) && trimmed[9..].StartsWith(prefix, StringComparison.Ordinal))
                return trimmed[9..].Trim();
        }

        throw new ImageException(ImageFailure.Environment, $"{metapackage} depends on no package starting with {prefix}.");
    }

    /// <summary>The .deb for <paramref name="package"/>, downloaded unless already cached.</summary>
    public string Download(DebianPackage package, IProgress<string>? progress)
    {
        ArgumentNullException.ThrowIfNull(package);
        Directory.CreateDirectory(CacheDirectory);
        string? cached = FindCached(package);
        if (cached is not null)
            return cached;
        progress?.Report($"download: {package}");
        ExternalCommand.Run("apt-get", "apt", ["download", "-q", package.ToString()], CacheDirectory);
        return FindCached(package) ?? throw new ImageException(ImageFailure.Environment, $"apt-get download {package} produced no .deb file.");
    }

    /// <summary>Unpacks <paramref name="deb"/> into <paramref name="root"/>.</summary>
    public static void Extract(string deb, string root) => ExternalCommand.Run("dpkg-deb", "dpkg", ["-x", deb, root]);

    private string? FindCached(DebianPackage package)
    {
        // apt names files NAME_VERSION_ARCH.deb with ':' in the version (an epoch) written as %3a.
        string version = package.Version.Replace(":", "%3a", StringComparison.Ordinal);
        foreach (string arch in new[] { "amd64", "all" })
        {
            string path = Path.Combine(CacheDirectory, $"{package.Name}_{version}_{arch}.deb");
            if (File.Exists(path) && new FileInfo(path).Length > 0)
                return path;
        }

        return null;
    }

    [GeneratedRegex(@"^Version: (.+)$", RegexOptions.Multiline)]
    private static partial Regex VersionField();
}
