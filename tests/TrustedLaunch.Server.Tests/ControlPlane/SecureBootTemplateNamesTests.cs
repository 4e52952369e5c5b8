using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>The control plane (BCL only) spells the templates itself; the host builds the stores from the library's names.</summary>
public sealed class SecureBootTemplateNamesTests
{
    [Fact]
    public void ControlPlaneTemplates_AreTheLibraryTemplatesThatEnrolKeys()
    {
        Assert.Equal(SecureBootTemplates.Names.Where(n => n != SecureBootTemplates.Empty), VmPlanner.Templates);
        Assert.All(VmPlanner.Templates, name => Assert.True(SecureBootTemplates.TryParse(name, out _), name));
    }
}
