using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Images.Agent;

/// <summary>
/// Produces the NativeAOT <c>tl-guest-agent</c> for the guest image from a source checkout: <c>dotnet publish -r linux-x64</c>
/// with its own artifacts folder (so it never races a developer's build of the same projects), cached under
/// <c>TL_HOME/cache/guest-agent/&lt;source hash&gt;/</c>. The hash covers every source file of the agent's project closure
/// and the repository-wide build settings, so any change to the agent (or what it links) publishes a new binary and,
/// through its digest, gives the image a new cache key.
/// </summary>
public static class GuestAgentPublisher
{
    public const string ProjectPath = "src/TrustedLaunch.GuestAgent/TrustedLaunch.GuestAgent.csproj";
    public const string BinaryName = "tl-guest-agent";
    private static readonly string[] BuildSettings = ["Directory.Build.props", "Directory.Packages.props", "global.json", ".editorconfig", "nuget.config"];

    /// <summary>The repository holding the agent's source, searched upward from <paramref name="start"/>, or null.</summary>
    public static string? FindSourceRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, ProjectPath)))
                return dir.FullName;
        }

        return null;
    }

    /// <summary>The agent's source root from the working directory or from where this program runs.</summary>
    public static string? FindSourceRoot() => FindSourceRoot(Environment.CurrentDirectory) ?? FindSourceRoot(AppContext.BaseDirectory);

    /// <summary>SHA-256 over the relative path and content of every .cs/.csproj in the project closure plus the build settings.</summary>
    public static string SourceHash(string repositoryRoot)
    {
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string project in ProjectClosure(Path.Combine(repositoryRoot, ProjectPath)))
        {
            string dir = Path.GetDirectoryName(project)!;
            foreach (string file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(dir, file);
                bool generated = relative.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal) ||
                    relative.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal);
                if (!generated && (file.EndsWith(".cs", StringComparison.Ordinal) || file.EndsWith(".csproj", StringComparison.Ordinal)))
                    files.Add(Path.GetRelativePath(repositoryRoot, file));
            }
        }

        foreach (string setting in BuildSettings)
        {
            if (File.Exists(Path.Combine(repositoryRoot, setting)))
                files.Add(setting);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string file in files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file.Replace('\\', '/') + "\n"));
            hash.AppendData(SHA256.HashData(File.ReadAllBytes(Path.Combine(repositoryRoot, file))));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>The project and everything it references (ProjectReference, transitively).</summary>
    public static IReadOnlyList<string> ProjectClosure(string project)
    {
        var seen = new List<string>();
        var pending = new Stack<string>([Path.GetFullPath(project)]);
        while (pending.Count > 0)
        {
            string current = pending.Pop();
            if (seen.Contains(current))
                continue;
            if (!File.Exists(current))
                throw new ImageException(ImageFailure.Environment, $"Project {current} (referenced by the guest agent) does not exist.");
            seen.Add(current);
            foreach (XElement reference in XDocument.Load(current).Descendants("ProjectReference"))
            {
                string include = ((string?)reference.Attribute("Include") ?? "").Replace('\\', '/');
                if (include.Length > 0)
                    pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(current)!, include)));
            }
        }

        return seen;
    }

    /// <summary>The cached binary for the current source, publishing it first when absent.</summary>
    public static string Publish(string repositoryRoot, string? cacheDirectory = null, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(repositoryRoot);
        string cache = cacheDirectory ?? Path.Combine(TlHome.Cache, "guest-agent");
        string hash = SourceHash(repositoryRoot);
        string target = Path.Combine(cache, hash);
        string binary = Path.Combine(target, BinaryName);
        if (File.Exists(binary))
        {
            progress?.Report($"guest agent: cached {binary}");
            return binary;
        }

        progress?.Report($"guest agent: dotnet publish (NativeAOT, linux-x64), source {hash}");
        string work = Path.Combine(cache, $".publish-{Guid.NewGuid():N}");
        try
        {
            ExternalCommand.Run("dotnet", "dotnet-sdk-10.0",
            [
                "publish", Path.Combine(repositoryRoot, ProjectPath), "-c", "Release", "-r", "linux-x64", "--nologo", "-v", "q",
                "--artifacts-path", Path.Combine(work, "artifacts"), "-o", Path.Combine(work, "out"),
            ], repositoryRoot);
            string built = Path.Combine(work, "out", BinaryName);
            if (!File.Exists(built))
                throw new ImageException(ImageFailure.Environment, $"dotnet publish produced no {BinaryName} in {Path.Combine(work, "out")}.");
            string staged = Path.Combine(work, "final");
            Directory.CreateDirectory(staged);
            File.Copy(built, Path.Combine(staged, BinaryName));
            try
            {
                Directory.Move(staged, target); // atomic: a concurrent publisher of the same source may win, which is fine
            }
            catch (IOException) when (File.Exists(binary))
            {
            }

            progress?.Report($"guest agent: published {binary}");
            return binary;
        }
        finally
        {
            if (Directory.Exists(work))
                Directory.Delete(work, recursive: true);
        }
    }
}
