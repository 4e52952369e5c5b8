using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.Portal.Data;

/// <summary>The Basics tab of "Create a virtual machine", as the form posts it.</summary>
public sealed class CreateVmForm
{
    public const string TrustedLaunchType = "TrustedLaunch";
    public const string StandardType = "Standard";

    public string? ResourceGroup { get; set; }

    public string? Name { get; set; }

    /// <summary>The image URN, <c>publisher:offer:sku:version</c>.</summary>
    public string? Image { get; set; }

    public string? Size { get; set; }

    public string SecurityType { get; set; } = TrustedLaunchType;

    public bool SecureBoot { get; set; }

    public bool VTpm { get; set; }

    /// <summary><c>check</c> (evaluate the rules and show the template) or <c>create</c>.</summary>
    public string? Intent { get; set; }

    public bool IsTrustedLaunch => string.Equals(SecurityType, TrustedLaunchType, StringComparison.Ordinal);

    /// <summary>The ARM resource this form creates (security features only with Trusted Launch, as the portal sends them).</summary>
    public VirtualMachineResource ToResource(string location, string? securityType = null)
    {
        string type = securityType ?? SecurityType;
        bool trusted = type == TrustedLaunchType;
        string[] urn = (Image ?? "").Split(':');
        return new VirtualMachineResource
        {
            Location = location,
            Properties = new VirtualMachineProperties
            {
                HardwareProfile = new HardwareProfile { VmSize = Size },
                StorageProfile = new StorageProfile
                {
                    ImageReference = urn.Length == 4 ? new ImageReference { Publisher = urn[0], Offer = urn[1], Sku = urn[2], Version = urn[3] } : null,
                    OsDisk = new OSDisk { CreateOption = "FromImage", DeleteOption = "Delete" },
                },
                SecurityProfile = new SecurityProfile
                {
                    SecurityType = trusted ? TrustedLaunchType : StandardType,
                    UefiSettings = trusted ? new UefiSettings { SecureBootEnabled = SecureBoot, VTpmEnabled = VTpm } : null,
                },
                OSProfile = string.IsNullOrWhiteSpace(Name) ? null : new OSProfile { ComputerName = Name }, // absent: the VM's name
            },
        };
    }

    /// <summary>The ARM deployment template of what is about to be created ("View template").</summary>
    public string TemplateJson(string location)
    {
        JsonNode resource = JsonSerializer.SerializeToNode(ToResource(location), ControlPlaneJson.Web.VirtualMachineResource)!;
        var vm = new JsonObject
        {
            ["type"] = "Microsoft.Compute/virtualMachines",
            ["apiVersion"] = ApiVersions.Compute[0],
            ["name"] = Name ?? "",
            ["location"] = location,
            ["properties"] = resource["properties"]?.DeepClone(),
        };
        var template = new JsonObject
        {
            ["$schema"] = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            ["contentVersion"] = "1.0.0.0",
            ["resources"] = new JsonArray(vm),
        };
        return template.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
