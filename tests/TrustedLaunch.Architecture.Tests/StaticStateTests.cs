using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.CompilerServices;

namespace TrustedLaunch.Architecture.Tests;

/// <summary>
/// Libraries hold no process-wide mutable state: what a verifier or a parser remembers belongs to an object its host
/// created (docs/architecture.md). Format assemblies also stay pure code: no native calls, no unsafe code.
/// </summary>
public class StaticStateTests
{
    private static readonly string[] FormatAssemblies =
    [
        "TrustedLaunch.Tpm.Protocol", "TrustedLaunch.Uefi.Format", "TrustedLaunch.Tcg.EventLog", "TrustedLaunch.Pe.Authenticode",
        "TrustedLaunch.Linux.ModuleSignature", "TrustedLaunch.Vmgs.Format", "TrustedLaunch.Attestation.Evidence", "TrustedLaunch.GuestChannel",
        "TrustedLaunch.ArmTemplates",
    ];

    private static readonly string[] CoreAssemblies =
    [
        "TrustedLaunch.Tpm.Crypto", "TrustedLaunch.Tpm.Transport", "TrustedLaunch.Uefi.VariableStore", "TrustedLaunch.SecureBoot",
        "TrustedLaunch.Storage", "TrustedLaunch.VTpm", "TrustedLaunch.Vmgs", "TrustedLaunch.Runtime", "TrustedLaunch.Images",
        "TrustedLaunch.Attestation", "TrustedLaunch.HostSystem", "TrustedLaunch.ControlPlane", "TrustedLaunch.Posture",
    ];

    // Process-wide by nature, each for a reason of its own.
    private static readonly Dictionary<string, string> AllowedMutableStatics = new(StringComparer.Ordinal)
    {
        // libtpms keeps one TPM per process in its own globals; the engine guards that single instance.
        ["TrustedLaunch.VTpm.Engine.LibTpmsEngine"] = "libtpms is one TPM per process",
    };

    public static TheoryData<string> Libraries => new(FormatAssemblies.Concat(CoreAssemblies));

    public static TheoryData<string> Formats => new(FormatAssemblies);

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Library_HasNoMutableStaticFieldsOrThreadStatics(string name)
    {
        var offending = new List<string>();
        foreach (Type type in Types(Assembly.Load(name)))
        {
            if (IsGenerated(type) || AllowedMutableStatics.ContainsKey(type.FullName ?? ""))
                continue;
            foreach (FieldInfo field in type.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.IsDefined(typeof(ThreadStaticAttribute)))
                    offending.Add($"{type.FullName}.{field.Name} is [ThreadStatic]");
                else if (!field.IsInitOnly && !field.IsLiteral && !field.IsDefined(typeof(CompilerGeneratedAttribute)))
                    offending.Add($"{type.FullName}.{field.Name} is a mutable static field");
                else if (!field.IsInitOnly && !field.IsLiteral)
                    offending.Add($"{type.FullName}.{field.Name} backs a settable static property");
            }
        }

        Assert.True(offending.Count == 0, string.Join(Environment.NewLine, offending));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void FormatLibrary_CallsNothingNativeAndHasNoUnsafeCode(string name)
    {
        Assembly assembly = Assembly.Load(name);
        var offending = new List<string>();
        foreach (Type type in Types(assembly))
        {
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if ((method.Attributes & MethodAttributes.PinvokeImpl) != 0)
                    offending.Add($"{type.FullName}.{method.Name} is a P/Invoke");
            }
        }

        // The compiler marks a module built with unsafe code enabled UnverifiableCode.
        if (assembly.ManifestModule.IsDefined(typeof(System.Security.UnverifiableCodeAttribute)))
            offending.Add($"{name} is compiled with unsafe code");
        using (var stream = File.OpenRead(assembly.Location))
        using (var pe = new PEReader(stream))
        {
            MetadataReader metadata = pe.GetMetadataReader();
            foreach (TypeReferenceHandle handle in metadata.TypeReferences)
            {
                TypeReference reference = metadata.GetTypeReference(handle);
                if (metadata.GetString(reference.Namespace) == "System.Runtime.InteropServices" && metadata.GetString(reference.Name) is "NativeLibrary" or "Marshal")
                    offending.Add($"{name} uses System.Runtime.InteropServices.{metadata.GetString(reference.Name)}");
            }
        }

        Assert.True(offending.Count == 0, string.Join(Environment.NewLine, offending));
    }

    private static IEnumerable<Type> Types(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.OfType<Type>();
        }
    }

    // Lambda caches (<>c), state machines, and source-generated code (JSON contexts, regexes, interop stubs).
    private static bool IsGenerated(Type type)
    {
        for (Type? t = type; t is not null; t = t.DeclaringType)
        {
            if (t.IsDefined(typeof(CompilerGeneratedAttribute)) || t.IsDefined(typeof(System.CodeDom.Compiler.GeneratedCodeAttribute)) || t.Name.Contains('<', StringComparison.Ordinal))
                return true;
            if (typeof(System.Text.Json.Serialization.JsonSerializerContext).IsAssignableFrom(t))
                return true;
        }

        return false;
    }
}
