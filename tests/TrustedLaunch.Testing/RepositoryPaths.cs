namespace TrustedLaunch.Testing;

/// <summary>Locates the repository root and the test corpus from a test's output folder.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The folder holding <c>TrustedLaunch.slnx</c>.</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary><c>tests/corpus</c> in the checkout, or <c>TL_CORPUS</c> when set.</summary>
    public static string CorpusRoot
    {
        get
        {
            string? fromEnv = Environment.GetEnvironmentVariable("TL_CORPUS");
            string path = string.IsNullOrEmpty(fromEnv) ? Path.Combine(RepositoryRoot, "tests", "corpus") : fromEnv;
            if (!Directory.Exists(path))
                throw new DirectoryNotFoundException($"Test corpus not found at {path}; set TL_CORPUS to its location.");
            return path;
        }
    }

    /// <summary>
    /// The cache of guest images, Debian packages and published guest agents that boot tests share across test
    /// projects and runs: <c>TL_TEST_IMAGE_CACHE</c>, else <c>/tmp/tl-test-images</c>.
    /// </summary>
    public static string TestImageCache => Environment.GetEnvironmentVariable("TL_TEST_IMAGE_CACHE") is { Length: > 0 } dir
        ? dir
        : Path.Combine(Path.GetTempPath(), "tl-test-images");

    /// <summary>Folders of real QEMU boot captures (<c>corpus/qemu/*</c>).</summary>
    public static IEnumerable<string> QemuCaptures =>
        Directory.EnumerateDirectories(Path.Combine(CorpusRoot, "qemu")).Order(StringComparer.Ordinal);

    /// <summary>Folders of public real-world logs (<c>corpus/public/*</c>).</summary>
    public static IEnumerable<string> PublicLogs =>
        Directory.EnumerateDirectories(Path.Combine(CorpusRoot, "public")).Order(StringComparer.Ordinal);

    /// <summary>A fresh empty folder under the system temp directory, for one test.</summary>
    public static string NewTempDirectory(string prefix = "tl-test")
    {
        string path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TrustedLaunch.slnx")))
                return dir.FullName;
        }

        throw new DirectoryNotFoundException($"No TrustedLaunch.slnx above {AppContext.BaseDirectory}.");
    }
}
