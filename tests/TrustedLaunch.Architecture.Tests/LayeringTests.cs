using System.Reflection;

namespace TrustedLaunch.Architecture.Tests;

/// <summary>The layering rules of docs/architecture.md, checked on the built assemblies.</summary>
public class LayeringTests
{
    // Pure format/protocol libraries: BCL only (plus Pkcs where CMS is needed) and other format libraries.
    private static readonly Dictionary<string, string[]> FormatLibraries = new()
    {
        ["TrustedLaunch.Tpm.Protocol"] = [],
        ["TrustedLaunch.Uefi.Format"] = ["System.IO.Hashing"],
        ["TrustedLaunch.Tcg.EventLog"] = ["TrustedLaunch.Tpm.Protocol", "TrustedLaunch.Uefi.Format"],
        ["TrustedLaunch.Pe.Authenticode"] = ["System.Security.Cryptography.Pkcs"],
        ["TrustedLaunch.Linux.ModuleSignature"] = ["System.Security.Cryptography.Pkcs"],
        ["TrustedLaunch.Vmgs.Format"] = [],
    };

    public static TheoryData<string> FormatLibraryNames => new(FormatLibraries.Keys);

    [Theory]
    [MemberData(nameof(FormatLibraryNames))]
    public void FormatLibrary_ReferencesOnlyBclAndAllowedFormats(string name)
    {
        var assembly = Assembly.Load(name);
        var offending = assembly.GetReferencedAssemblies()
            .Select(a => a.Name!)
            .Where(n => !IsBcl(n) && !FormatLibraries[name].Contains(n))
            .ToList();
        Assert.True(offending.Count == 0, $"{name} references {string.Join(", ", offending)}");
    }

    [Fact]
    public void VTpm_DoesNotReferenceVmgsOrHosting()
    {
        var refs = Assembly.Load("TrustedLaunch.VTpm").GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain(refs, n => n.Contains("Vmgs", StringComparison.Ordinal) || n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }

    [Fact]
    public void OnlyHosts_ReferenceCommandLineOrAspNet()
    {
        string[] libraries =
        [
            "TrustedLaunch.Tpm.Protocol", "TrustedLaunch.Tpm.Transport", "TrustedLaunch.Uefi.Format", "TrustedLaunch.Tcg.EventLog",
            "TrustedLaunch.Uefi.VariableStore", "TrustedLaunch.Pe.Authenticode", "TrustedLaunch.SecureBoot",
            "TrustedLaunch.Linux.ModuleSignature", "TrustedLaunch.Storage", "TrustedLaunch.VTpm", "TrustedLaunch.Vmgs.Format", "TrustedLaunch.Vmgs",
            "TrustedLaunch.Runtime", "TrustedLaunch.Images",
        ];
        foreach (var name in libraries)
        {
            var refs = Assembly.Load(name).GetReferencedAssemblies().Select(a => a.Name!).ToList();
            Assert.DoesNotContain(refs, n => n == "System.CommandLine" || n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        }
    }

    private static bool IsBcl(string name) =>
        name is "System.Runtime" or "netstandard" or "mscorlib" || name.StartsWith("System.", StringComparison.Ordinal) && name != "System.Security.Cryptography.Pkcs" && name != "System.CommandLine"
        || name.StartsWith("Microsoft.Win32", StringComparison.Ordinal);
}
