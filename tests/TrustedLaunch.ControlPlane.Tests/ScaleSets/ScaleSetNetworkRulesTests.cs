using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.ScaleSets;

namespace TrustedLaunch.ControlPlane.Tests.ScaleSets;

/// <summary>The pure rules of a scale set model's network profile and the defaults Azure applies to it.</summary>
public sealed class ScaleSetNetworkRulesTests
{
    private const string Profile = "properties.virtualMachineProfile.networkProfile";

    [Fact]
    public void Check_OneConfigurationOnASubnet_NoError()
    {
        Assert.Empty(ScaleSetNetworkRules.Check(Network(Configuration("nic"))));
        Assert.Empty(ScaleSetNetworkRules.Check(new ScaleSetNetworkProfile())); // no configurations: instances have no NIC
    }

    [Fact]
    public void Check_EveryViolation_NamedByItsTarget()
    {
        ScaleSetNetworkConfiguration noSubnet = Configuration("b") with
        {
            Properties = new ScaleSetNetworkConfigurationProperties
            {
                DeleteOption = "Keep",
                IpConfigurations = [new ScaleSetIPConfiguration { Name = "ip", Properties = new ScaleSetIPConfigurationProperties() }],
            },
        };
        ScaleSetNetworkProfile profile = Network(Configuration("a"), noSubnet, Configuration("A"), Configuration("-bad")) with { NetworkApiVersion = "2019-07-01" };

        IReadOnlyList<ArmErrorDetail> errors = ScaleSetNetworkRules.Check(profile);

        Assert.Equal(
            [
                $"{Profile}.networkApiVersion",
                $"{Profile}.networkInterfaceConfigurations[1].properties.deleteOption",
                $"{Profile}.networkInterfaceConfigurations[1].properties.ipConfigurations[0].properties.subnet.id",
                $"{Profile}.networkInterfaceConfigurations[2].name",
                $"{Profile}.networkInterfaceConfigurations[3].name",
                $"{Profile}.networkInterfaceConfigurations",
            ],
            errors.Select(e => e.Target));
        Assert.Equal("VirtualMachineScaleSetMustHaveOneNetworkInterfaceConfigurationAsPrimary", errors[^1].Code);
        Assert.Contains("used more than once", errors[3].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NoApiVersion_RequiredAsAzureSaysIt()
    {
        ArmErrorDetail error = Assert.Single(ScaleSetNetworkRules.Check(Network(Configuration("nic")) with { NetworkApiVersion = null }));

        Assert.Equal(("InvalidParameter", $"{Profile}.networkApiVersion"), (error.Code, error.Target));
        Assert.StartsWith("Required parameter 'networkApiVersion' is missing (null)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithDefaults_SingleIsPrimary_DeleteUnlessDetach()
    {
        ScaleSetNetworkProfile single = ScaleSetNetworkRules.WithDefaults(Network(Configuration("nic")))!;
        ScaleSetNetworkConfigurationProperties p = single.NetworkInterfaceConfigurations![0].Properties!;
        Assert.Equal((true, "Delete", true), (p.Primary, p.DeleteOption, p.IpConfigurations![0].Properties!.Primary));

        ScaleSetNetworkConfiguration detach = Configuration("d") with { Properties = Configuration("d").Properties! with { DeleteOption = "detach", Primary = true } };
        ScaleSetNetworkProfile two = ScaleSetNetworkRules.WithDefaults(Network(Configuration("nic"), detach))!;
        Assert.Equal([(false, "Delete"), (true, "Detach")], two.NetworkInterfaceConfigurations!.Select(c => (c.Properties!.Primary, c.Properties.DeleteOption)));
        Assert.Null(ScaleSetNetworkRules.WithDefaults(new ScaleSetNetworkProfile { NetworkApiVersion = "2020-11-01" }));
    }

    private static ScaleSetNetworkProfile Network(params ScaleSetNetworkConfiguration[] configurations) =>
        new() { NetworkApiVersion = "2020-11-01", NetworkInterfaceConfigurations = configurations };

    private static ScaleSetNetworkConfiguration Configuration(string name) => new()
    {
        Name = name,
        Properties = new ScaleSetNetworkConfigurationProperties
        {
            IpConfigurations =
            [
                new ScaleSetIPConfiguration
                {
                    Name = "ipconfig1",
                    Properties = new ScaleSetIPConfigurationProperties { Subnet = new SubResource { Id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/default" } },
                },
            ],
        },
    };
}
