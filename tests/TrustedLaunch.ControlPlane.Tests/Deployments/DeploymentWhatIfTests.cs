using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.Deployments;

namespace TrustedLaunch.ControlPlane.Tests.Deployments;

public sealed class DeploymentWhatIfTests
{
    private const string Id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/vnet";

    private static JsonObject Json(string text) => JsonNode.Parse(text)!.AsObject();

    [Fact]
    public void Compare_NothingThere_Create()
    {
        JsonObject declared = Json("""{"location":"westus"}""");
        ResourceChange change = DeploymentWhatIf.Compare(Id, null, declared, declared);
        Assert.Equal("Create", change.ChangeType);
        Assert.Null(change.Before);
    }

    [Fact]
    public void Compare_SameValuesOtherCaseServerMembersAndNulls_NoChange()
    {
        JsonObject current = Json("""{"id":"/X","name":"vnet","location":"westus","etag":"W/1","properties":{"provisioningState":"Succeeded","addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"enableDdosProtection":false}}""");
        JsonObject declared = Json("""{"id":"/x","name":"VNET","location":"WestUS","tags":null,"properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"enableDdosProtection":false}}""");
        Assert.Equal("NoChange", DeploymentWhatIf.Compare(Id, current, declared, declared).ChangeType);
    }

    [Fact]
    public void Compare_ChangedAndAddedMembers_ModifyWithEachPath()
    {
        JsonObject current = Json("""{"location":"westus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]}}}""");
        JsonObject declared = Json("""{"location":"westus","tags":{"env":"prod"},"properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16","10.1.0.0/16"]}}}""");
        ResourceChange change = DeploymentWhatIf.Compare(Id, current, declared, declared);
        Assert.Equal("Modify", change.ChangeType);
        Assert.Collection(change.Delta,
            d => Assert.Equal(("tags", "Create"), (d.Path, d.PropertyChangeType)),
            d => Assert.Equal(("properties.addressSpace.addressPrefixes", "Modify"), (d.Path, d.PropertyChangeType)));
        JsonObject result = DeploymentWhatIf.Result([change]);
        Assert.Equal("properties.addressSpace.addressPrefixes", (string?)result["properties"]!["changes"]![0]!["delta"]![1]!["path"]);
    }

    [Fact]
    public void Compare_BodyNotEvaluable_DeployForAnExistingResource()
    {
        JsonObject current = Json("""{"location":"westus"}""");
        Assert.Equal("Deploy", DeploymentWhatIf.Compare(Id, current, null, null).ChangeType);
    }
}
