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
        ["TrustedLaunch.Attestation.Evidence"] = ["TrustedLaunch.Tpm.Protocol"],
        ["TrustedLaunch.GuestChannel"] = ["TrustedLaunch.Attestation.Evidence"],
        ["TrustedLaunch.ArmTemplates"] = [],
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
            "TrustedLaunch.Runtime", "TrustedLaunch.Images", "TrustedLaunch.Attestation.Evidence", "TrustedLaunch.Attestation",
            "TrustedLaunch.GuestChannel", "TrustedLaunch.HostSystem", "TrustedLaunch.ControlPlane", "TrustedLaunch.Posture",
            "TrustedLaunch.ArmTemplates", "TrustedLaunch.Interop",
        ];
        foreach (var name in libraries)
        {
            var refs = Assembly.Load(name).GetReferencedAssemblies().Select(a => a.Name!).ToList();
            Assert.DoesNotContain(refs, n => n == "System.CommandLine" || n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void OnlyServerAndCli_ReferenceOpenTelemetry()
    {
        // Libraries (the host agent included) record into BCL Meters and ActivitySources; exporters are wired at the hosts.
        // (tl, tl-vtpm and tl-guest-agent are NativeAOT programs whose assembly names differ; they reference no telemetry package.)
        string[] hosts = ["TrustedLaunch.Server", "TrustedLaunch.Cli", "TrustedLaunch.Cli.Native", "TrustedLaunch.VTpm.Host", "TrustedLaunch.GuestAgent"];
        foreach (string project in Directory.EnumerateFiles(Path.Combine(TrustedLaunch.Testing.RepositoryPaths.RepositoryRoot, "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(p => Path.GetFileNameWithoutExtension(p)).Where(p => !hosts.Contains(p)))
        {
            var refs = Assembly.Load(project).GetReferencedAssemblies().Select(a => a.Name!).ToList();
            Assert.DoesNotContain(refs, n => n.StartsWith("OpenTelemetry", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void AttestationVerifier_HasNoHostingStorageOrRuntime()
    {
        // The verifier is pure: the server and the CLI give it evidence and expectations, it never reaches a store.
        var refs = Assembly.Load("TrustedLaunch.Attestation").GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain(refs, n => n is "TrustedLaunch.Server" or "TrustedLaunch.Runtime" or "TrustedLaunch.Storage" or "TrustedLaunch.HostSystem" or "Microsoft.Data.Sqlite");
    }

    [Fact]
    public void HostSystem_ReferencesOnlyTheBcl()
    {
        // Every library may use the host chores, so they must not pull anything in.
        var refs = Assembly.Load("TrustedLaunch.HostSystem").GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.All(refs, n => Assert.True(IsBcl(n), $"TrustedLaunch.HostSystem references {n}"));
    }

    [Fact]
    public void ControlPlane_ReferencesTheBclOnly()
    {
        // The resource layer is a core library over store interfaces: hosts bring HTTP (TrustedLaunch.Server), the
        // databases, and the disk and Secure Boot inspection behind IDiskImageProbe. The template language is a pure
        // library of its own (TrustedLaunch.ArmTemplates, BCL only).
        var offending = Assembly.Load("TrustedLaunch.ControlPlane").GetReferencedAssemblies().Select(a => a.Name!)
            .Where(n => !IsBcl(n) && n != "TrustedLaunch.ArmTemplates" && !n.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) && !n.EndsWith(".Abstractions", StringComparison.Ordinal))
            .ToList();
        Assert.True(offending.Count == 0, $"TrustedLaunch.ControlPlane references {string.Join(", ", offending)}");
    }

    [Fact]
    public void GuestAgent_CarriesOnlyWhatTheGuestNeeds()
    {
        // tl-guest-agent runs in a libc-only initramfs: no verifier, no host libraries, no OpenSSL-backed crypto packages.
        var refs = Assembly.Load("tl-guest-agent").GetReferencedAssemblies().Select(a => a.Name!).ToList();
        string[] allowed = ["TrustedLaunch.GuestChannel", "TrustedLaunch.Attestation.Evidence", "TrustedLaunch.Tpm.Protocol", "TrustedLaunch.Tpm.Transport"];
        var offending = refs.Where(n => n.StartsWith("TrustedLaunch.", StringComparison.Ordinal) && !allowed.Contains(n)).ToList();
        Assert.True(offending.Count == 0, $"tl-guest-agent references {string.Join(", ", offending)}");
    }

    private static bool IsBcl(string name) =>
        name is "System.Runtime" or "netstandard" or "mscorlib" || name.StartsWith("System.", StringComparison.Ordinal) && name != "System.Security.Cryptography.Pkcs" && name != "System.CommandLine"
        || name.StartsWith("Microsoft.Win32", StringComparison.Ordinal);
}
