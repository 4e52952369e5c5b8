using System.Text.Json.Nodes;
using TrustedLaunch.Portal.Data;

namespace TrustedLaunch.Portal.Tests.Data;

public sealed class SuppressionRuleFormTests
{
    [Fact]
    public void ToResource_DefendersShape_InListsAndContains_ExpiryAtTheDatesStartUtc()
    {
        var form = new SuppressionRuleForm { AlertType = "TL_VM_AttestationFailed", Reason = "Benign", Comment = " lab ", Expiration = "2030-01-31" };
        form.Filters[0] = new SuppressionConditionForm { Field = "entities.azureResource.resourceGroup", Values = "lab, test ,," };
        form.Filters[2] = new SuppressionConditionForm { Field = "extendedProperties.pcr", Operator = "contains", Values = "7" };
        JsonObject body = form.ToResource(out string? error)!;
        Assert.Null(error);
        JsonNode p = body["properties"]!;
        Assert.Equal("TL_VM_AttestationFailed", (string?)p["alertType"]);
        Assert.Equal("Enabled", (string?)p["state"]);
        Assert.Equal("lab", (string?)p["comment"]);
        Assert.Equal("2030-01-31T00:00:00Z", (string?)p["expirationDateUtc"]);
        Assert.Equal("""[{"field":"entities.azureResource.resourceGroup","in":["lab","test"]},{"field":"extendedProperties.pcr","contains":"7"}]""",
            p["suppressionAlertsScope"]!["allOf"]!.ToJsonString());
    }

    [Fact]
    public void ToResource_NoExpiryNoComment_Disabled_LeavesThemOut()
    {
        JsonNode p = new SuppressionRuleForm { Enabled = false }.ToResource(out _)!["properties"]!;
        Assert.Equal("Disabled", (string?)p["state"]);
        Assert.Null(p["expirationDateUtc"]);
        Assert.Null(p["comment"]);
        Assert.Equal("*", (string?)p["alertType"]);
    }

    [Theory]
    [InlineData("31/01/2030", null, "is not a date")]
    [InlineData(null, " ", "has no value")]
    public void ToResource_BadDateOrEmptyFilter_NamesTheProblem(string? expiration, string? values, string expected)
    {
        var form = new SuppressionRuleForm { Expiration = expiration };
        if (values is not null)
            form.Filters[0] = new SuppressionConditionForm { Field = "severity", Values = values };
        Assert.Null(form.ToResource(out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
