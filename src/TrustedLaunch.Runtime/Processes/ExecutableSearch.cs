namespace TrustedLaunch.Runtime.Processes;

/// <summary>Finds programs the runtime drives (QEMU, swtpm, tl-vtpm, qemu-img) the way a shell would.</summary>
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

    /// <summary>Like <see cref="Find"/>, but a missing program is an environment problem naming the package.</summary>
    public static string Require(string name, string package) =>
        Find(name) ?? throw new VmRuntimeException(VmRuntimeFailure.Environment,
            $"'{name}' is not installed; install the '{package}' package (scripts/install-deps.sh).");
}
