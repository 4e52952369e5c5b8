using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates.Tests;

/// <summary>Builds small templates around an expression and evaluates them through the public plan API.</summary>
internal static class TemplateHarness
{
    public static readonly DeploymentScope Scope = new()
    {
        SubscriptionId = "00000000-0000-0000-0000-000000000000",
        SubscriptionDisplayName = "tl",
        ResourceGroup = "my-rg",
        Location = "westus",
        DeploymentName = "deploy1",
    };

    /// <summary>The value of <paramref name="expression"/> (a template string, usually "[...]") as compact JSON.</summary>
    public static string Evaluate(string expression, string parameters = "{}", string variables = "{}", IReferenceResolver? references = null)
    {
        var template = JsonNode.Parse("{\"parameters\": " + parameters + ", \"variables\": " + variables + """, "resources": [], "outputs": {"result": {"type": "object"}}}""")!.AsObject();
        template["outputs"]!["result"]!["value"] = expression;
        DeploymentPlan plan = DeploymentPlan.Create(ArmTemplate.FromJson(template), new Dictionary<string, JsonNode?>(), Scope);
        JsonNode? value = plan.EvaluateOutputs(references ?? new MapResolver())["result"]!["value"];
        return value?.ToJsonString() ?? "null";
    }

    public static DeploymentPlan Plan(string templateJson, Dictionary<string, JsonNode?>? parameters = null) =>
        DeploymentPlan.Create(ArmTemplate.Parse(templateJson), parameters ?? [], Scope);

    public static string Id(string type, string name) => ResourceIds.InGroup(Scope.SubscriptionId, Scope.ResourceGroup, type, name);
}

/// <summary>A reference resolver over a dictionary of resource ids to their state.</summary>
internal sealed class MapResolver : IReferenceResolver
{
    public Dictionary<string, JsonObject> States { get; } = new(StringComparer.OrdinalIgnoreCase);

    public JsonObject? Resolve(string resourceId, string? apiVersion) => States.GetValueOrDefault(resourceId);
}
