using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates.Functions;

/// <summary>Deployment and scope functions (ARM "template-functions-deployment" and "-scope"), and <c>copyIndex</c>.</summary>
internal static class DeploymentFunctions
{
    public static void Register(Dictionary<string, TemplateFunction> table)
    {
        table["parameters"] = call => TemplateValues.Detach(call.Context.Scope.Parameter(call.Arity(1, 1).String(0), call.Context));
        table["variables"] = call => TemplateValues.Detach(call.Context.Scope.Variable(call.Arity(1, 1).String(0), call.Context));
        table["resourceGroup"] = ResourceGroup;
        table["subscription"] = Subscription;
        table["deployment"] = Deployment;
        table["copyIndex"] = CopyIndex;
    }

    private static JsonNode? ResourceGroup(FunctionCall call)
    {
        call.Arity(0, 0);
        DeploymentScope scope = call.Context.Scope.Deployment;
        var tags = new JsonObject();
        foreach ((string key, string value) in scope.ResourceGroupTags ?? new Dictionary<string, string>())
            tags[key] = value;
        return new JsonObject
        {
            ["id"] = scope.ResourceGroupId,
            ["name"] = scope.ResourceGroup,
            ["type"] = "Microsoft.Resources/resourceGroups",
            ["location"] = scope.Location,
            ["tags"] = tags,
            ["properties"] = new JsonObject { ["provisioningState"] = "Succeeded" },
        };
    }

    private static JsonNode? Subscription(FunctionCall call)
    {
        call.Arity(0, 0);
        DeploymentScope scope = call.Context.Scope.Deployment;
        return new JsonObject
        {
            ["id"] = $"/subscriptions/{scope.SubscriptionId}",
            ["subscriptionId"] = scope.SubscriptionId,
            ["tenantId"] = scope.TenantId,
            ["displayName"] = scope.SubscriptionDisplayName,
        };
    }

    private static JsonNode? Deployment(FunctionCall call)
    {
        call.Arity(0, 0);
        DeploymentScope scope = call.Context.Scope.Deployment;
        return new JsonObject
        {
            ["name"] = scope.DeploymentName,
            ["properties"] = new JsonObject { ["mode"] = "Incremental" },
        };
    }

    // copyIndex(), copyIndex(offset), copyIndex('loop'), copyIndex('loop', offset)
    private static JsonNode? CopyIndex(FunctionCall call)
    {
        call.Arity(0, 2);
        string? loop = call.Count > 0 && call.Kind(0) == TemplateValueKind.String ? call.String(0) : null;
        long offset = call.Count == 2 ? call.Int(1) : call.Count == 1 && loop is null ? call.Int(0) : 0;
        if (!call.Context.TryGetCopyIndex(loop, out int index))
        {
            throw call.Fail(loop is null
                ? "the template function 'copyIndex' is not expected at this location: it is used outside a copy loop"
                : $"the copy loop '{loop}' is not found");
        }

        return JsonValue.Create(index + offset);
    }
}
