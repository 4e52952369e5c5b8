namespace TrustedLaunch.HostSystem;

/// <summary>Finds the programs TrustedLaunch drives (QEMU, swtpm, tl-vtpm, qemu-img, apt) the way a shell would.</summary>
public static class ExecutableSearch
{
    /// <summary>
    /// Full path of <paramref name="name"/>: itself when it contains a '/', else the first match on PATH, then in
    /// /usr/sbin, /usr/bin, /sbin, /bin (root's tools when PATH is minimal); null when absent.
    /// </summary>
    public static string? Find(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/', StringComparison.Ordinal))
            return File.Exists(name) ? Path.GetFullPath(name) : null;
        IEnumerable<string> directories = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
        foreach (string directory in directories)
        {
            string candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
                return candidate;
        }

        return null;
    }

    /// <summary>The message for a program that is not installed, naming the OS package that brings it.</summary>
    public static string NotInstalledMessage(string name, string package) =>
        $"'{name}' is not installed; install the '{package}' package (scripts/install-deps.sh).";
}
