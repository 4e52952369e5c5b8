namespace TrustedLaunch.Testing.Qemu;

/// <summary>
/// Debian 12's signed boot chain, fetched and unpacked once by <c>scripts/fetch-debian-boot-chain.sh</c> into the
/// TL_CACHE folder (fast when cached). Every path is checked to exist.
/// </summary>
public static class DebianBootChain
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Paths = new(Fetch);

    /// <summary>shimx64.efi.signed (Microsoft UEFI CA 2011 and 2023 signatures).</summary>
    public static string Shim => Paths.Value["shim"];

    /// <summary>mmx64.efi.signed (MokManager, signed by Debian's shim key).</summary>
    public static string MokManager => Paths.Value["mm"];

    /// <summary>fbx64.efi.signed (fallback).</summary>
    public static string Fallback => Paths.Value["fb"];

    /// <summary>grubx64.efi.signed.</summary>
    public static string Grub => Paths.Value["grub"];

    /// <summary>The signed vmlinuz of linux-image-6.1.0-56-amd64.</summary>
    public static string Kernel => Paths.Value["vmlinuz"];

    /// <summary>/lib/modules/&lt;version&gt; of that kernel.</summary>
    public static string Modules => Paths.Value["modules"];

    private static Dictionary<string, string> Fetch()
    {
        string script = Path.Combine(RepositoryPaths.RepositoryRoot, "scripts", "fetch-debian-boot-chain.sh");
        var result = ExternalTool.Run("bash", [script, "--print-paths"], timeout: TimeSpan.FromMinutes(10));
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"fetch-debian-boot-chain.sh failed (apt must reach the Debian 12 archive): {result}");
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in result.StandardOutput.Split('\n'))
        {
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                continue;
            string path = line[(eq + 1)..].Trim();
            if (!File.Exists(path) && !Directory.Exists(path))
                throw new InvalidOperationException($"fetch-debian-boot-chain.sh reported {line}, which does not exist.");
            paths[line[..eq]] = path;
        }

        return paths;
    }
}
