namespace TrustedLaunch.HostSystem;

/// <summary>
/// Where TrustedLaunch keeps its state on this machine (ARCHITECTURE.md "Where things live"): <c>TL_HOME</c> when set,
/// else <c>/var/lib/trustedlaunch</c> for root, else <c>~/.local/share/trustedlaunch</c>. One rule, used by every command.
/// </summary>
public static class TlHome
{
    /// <summary>The environment variable that overrides the default location.</summary>
    public const string EnvironmentVariable = "TL_HOME";

    /// <summary>The data directory (not created).</summary>
    public static string Path => Resolve(Environment.GetEnvironmentVariable(EnvironmentVariable), IsRoot(),
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>Cached guest images: <c>TL_HOME/images</c>.</summary>
    public static string Images => System.IO.Path.Combine(Path, "images");

    /// <summary>Downloaded packages and other reusable inputs: <c>TL_HOME/cache</c>.</summary>
    public static string Cache => System.IO.Path.Combine(Path, "cache");

    /// <summary>The platform CA that <c>tl quickstart</c> creates and reuses: <c>TL_HOME/pki</c>.</summary>
    public static string Pki => System.IO.Path.Combine(Path, "pki");

    /// <summary>One folder per VM that <c>tl quickstart</c> creates: <c>TL_HOME/vms/&lt;id&gt;</c>.</summary>
    public static string Vms => System.IO.Path.Combine(Path, "vms");

    /// <summary>The rule itself, separated from the process environment so it can be tested.</summary>
    public static string Resolve(string? fromEnvironment, bool isRoot, string userProfile)
    {
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return System.IO.Path.GetFullPath(fromEnvironment);
        return isRoot
            ? "/var/lib/trustedlaunch"
            : System.IO.Path.Combine(userProfile, ".local", "share", "trustedlaunch");
    }

    private static bool IsRoot() => OperatingSystem.IsLinux() && Libc.GetEffectiveUserId() == 0;
}
