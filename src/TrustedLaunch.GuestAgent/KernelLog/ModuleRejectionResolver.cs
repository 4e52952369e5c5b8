namespace TrustedLaunch.GuestAgent.KernelLog;

/// <summary>A module file the kernel read for loading but did not load.</summary>
public sealed record RejectedModuleFile(string Module, string Path);

/// <summary>
/// Names the module behind a refusal the kernel logs without a name. Under Secure Boot the kernel's architecture IMA
/// policy (security/integrity/ima/ima_efi.c <c>sb_arch_rules</c>: "measure func=MODULE_CHECK") measures every module
/// file handed to finit_module before module_sig_check runs, so the IMA list holds its path. A measured module file
/// whose module is not in /proc/modules was read for loading and refused.
/// </summary>
public static class ModuleRejectionResolver
{
    private static readonly string[] ModuleSuffixes = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"];

    /// <summary>Measured module files (in measurement order, each once) whose module is not loaded.</summary>
    public static IReadOnlyList<RejectedModuleFile> Resolve(IEnumerable<string> imaMeasuredPaths, IReadOnlySet<string> loadedModules)
    {
        ArgumentNullException.ThrowIfNull(imaMeasuredPaths);
        ArgumentNullException.ThrowIfNull(loadedModules);
        var result = new List<RejectedModuleFile>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string path in imaMeasuredPaths)
        {
            string? module = ModuleName(path);
            if (module is not null && !loadedModules.Contains(module) && seen.Add(module))
                result.Add(new RejectedModuleFile(module, path));
        }

        return result;
    }

    /// <summary>The module name of a module file path (<c>/lib/modules/x/ttyprintk.ko</c> → <c>ttyprintk</c>), or null.</summary>
    public static string? ModuleName(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string file = System.IO.Path.GetFileName(path);
        foreach (string suffix in ModuleSuffixes)
        {
            if (file.Length > suffix.Length && file.EndsWith(suffix, StringComparison.Ordinal))
                return Normalize(file[..^suffix.Length]);
        }

        return null;
    }

    /// <summary>The kernel treats '-' and '_' in module names alike (kernel/params.c parameqn); /proc/modules shows '_'.</summary>
    public static string Normalize(string module) => module.Replace('-', '_');

    /// <summary>Module names from /proc/modules text (first field of each line).</summary>
    public static IReadOnlySet<string> ParseProcModules(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            names.Add(Normalize(space < 0 ? line : line[..space]));
        }

        return names;
    }

    /// <summary>
    /// File paths from IMA's ascii_runtime_measurements: "PCR template-hash template-name filedata-hash path [signature]"
    /// (Documentation/security/IMA-templates.rst; <c>ima-sig</c> and <c>ima-modsig</c> append signature fields).
    /// </summary>
    public static IReadOnlyList<string> ParseImaAsciiPaths(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var paths = new List<string>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] fields = line.Split(' ');
            if (fields.Length < 5)
                continue;
            int end = fields[2] switch
            {
                "ima-sig" when fields.Length >= 6 => fields.Length - 1,
                "ima-modsig" when fields.Length >= 8 => fields.Length - 3,
                _ => fields.Length,
            };
            paths.Add(string.Join(' ', fields[4..end]));
        }

        return paths;
    }
}
