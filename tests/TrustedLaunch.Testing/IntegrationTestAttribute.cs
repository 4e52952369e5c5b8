using Xunit.Abstractions;
using Xunit.Sdk;

namespace TrustedLaunch.Testing;

/// <summary>
/// Marks a test, or every test of a class, that needs more than the repository and the .NET SDK: a host tool
/// (swtpm, QEMU, tpm2-tools, sbsigntool, openssl, cpio, …), libtpms, files of an OS package (OVMF, Debian's boot
/// chain), or a process of its own (<c>tl</c>, <c>tl-vtpm</c>, a crash writer). It gives the test the trait
/// <c>Category=Integration</c>: <c>./test --unit</c> filters it out, <c>./test</c> runs it.
/// </summary>
[TraitDiscoverer("TrustedLaunch.Testing." + nameof(IntegrationTestDiscoverer), "TrustedLaunch.Testing")]
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public sealed class IntegrationTestAttribute : Attribute, ITraitAttribute
{
    /// <summary>The trait name the test filter reads.</summary>
    public const string TraitName = "Category";

    /// <summary>The trait value of integration tests: <c>--filter Category!=Integration</c> runs the unit tests.</summary>
    public const string TraitValue = "Integration";
}

/// <summary>Turns <see cref="IntegrationTestAttribute"/> into the trait <c>Category=Integration</c>.</summary>
public sealed class IntegrationTestDiscoverer : ITraitDiscoverer
{
    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute) =>
        [new(IntegrationTestAttribute.TraitName, IntegrationTestAttribute.TraitValue)];
}
