using System.Text.Json;
using TrustedLaunch.Portal.Data;

namespace TrustedLaunch.Portal.Tests.Data;

public sealed class CreateVmFormTests
{
    [Fact]
    public void ToResource_TrustedLaunch_CarriesTheSecurityFeatures_StandardLeavesThemOut()
    {
        var form = new CreateVmForm { Name = "web1", Image = "Debian:debian-12:12-gen2:latest", Size = "Standard_B1s", SecureBoot = true, VTpm = false };

        var trusted = form.ToResource("local").Properties!;
        Assert.Equal("TrustedLaunch", trusted.SecurityProfile!.SecurityType);
        Assert.Equal((true, false), (trusted.SecurityProfile.UefiSettings!.SecureBootEnabled, trusted.SecurityProfile.UefiSettings.VTpmEnabled));
        Assert.Equal(("Debian", "debian-12", "12-gen2", "latest"), (trusted.StorageProfile!.ImageReference!.Publisher, trusted.StorageProfile.ImageReference.Offer,
            trusted.StorageProfile.ImageReference.Sku, trusted.StorageProfile.ImageReference.Version));

        var standard = form.ToResource("local", CreateVmForm.StandardType).Properties!;
        Assert.Equal("Standard", standard.SecurityProfile!.SecurityType);
        Assert.Null(standard.SecurityProfile.UefiSettings);
    }

    [Fact]
    public void TemplateJson_IsAnArmDeploymentTemplateWithTheVmResource()
    {
        var form = new CreateVmForm { Name = "web1", Image = "Debian:debian-12:12-gen2:latest", Size = "Standard_B1s", SecureBoot = true, VTpm = true };

        using JsonDocument template = JsonDocument.Parse(form.TemplateJson("local"));

        JsonElement vm = template.RootElement.GetProperty("resources")[0];
        Assert.Equal("Microsoft.Compute/virtualMachines", vm.GetProperty("type").GetString());
        Assert.Equal("web1", vm.GetProperty("name").GetString());
        Assert.True(vm.GetProperty("properties").GetProperty("securityProfile").GetProperty("uefiSettings").GetProperty("secureBootEnabled").GetBoolean());
        Assert.StartsWith("https://schema.management.azure.com/", template.RootElement.GetProperty("$schema").GetString(), StringComparison.Ordinal);
    }
}
