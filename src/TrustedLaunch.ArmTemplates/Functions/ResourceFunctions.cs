using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates.Functions;

/// <summary>Resource functions (ARM "template-functions-resource"): <c>resourceId</c>, <c>subscriptionResourceId</c>, <c>reference</c>.</summary>
internal static class ResourceFunctions
{
    public static void Register(Dictionary<string, TemplateFunction> table)
    {
        table["resourceId"] = ResourceId;
        table["subscriptionResourceId"] = SubscriptionResourceId;
        table["reference"] = Reference;
    }

    // resourceId([subscriptionId], [resourceGroupName], resourceType, resourceName1, [resourceName2], …): the type is the
    // first argument with a '/', which subscription ids and group names cannot have.
    private static JsonNode? ResourceId(FunctionCall call)
    {
        call.Arity(2);
        int typeIndex = TypeIndex(call);
        if (typeIndex > 2)
            throw call.Fail("at most a subscription id and a resource group name may come before the resource type");
        DeploymentScope scope = call.Context.Scope.Deployment;
        string subscription = typeIndex == 2 ? call.String(0) : scope.SubscriptionId;
        string group = typeIndex >= 1 ? call.String(typeIndex - 1) : scope.ResourceGroup;
        (string type, string name) = TypeAndName(call, typeIndex);
        return JsonValue.Create(ResourceIds.InGroup(subscription, group, type, name));
    }

    private static JsonNode? SubscriptionResourceId(FunctionCall call)
    {
        call.Arity(2);
        int typeIndex = TypeIndex(call);
        if (typeIndex > 1)
            throw call.Fail("at most a subscription id may come before the resource type");
        string subscription = typeIndex == 1 ? call.String(0) : call.Context.Scope.Deployment.SubscriptionId;
        (string type, string name) = TypeAndName(call, typeIndex);
        return JsonValue.Create(ResourceIds.InSubscription(subscription, type, name));
    }

    private static int TypeIndex(FunctionCall call)
    {
        for (int i = 0; i < call.Count; i++)
        {
            if (call.String(i).Contains('/', StringComparison.Ordinal))
                return i;
        }

        throw call.Fail("no argument is a resource type (namespace/type)");
    }

    private static (string Type, string Name) TypeAndName(FunctionCall call, int typeIndex)
    {
        string type = call.String(typeIndex).Trim('/');
        var names = new List<string>();
        for (int i = typeIndex + 1; i < call.Count; i++)
            names.AddRange(call.String(i).Split('/'));
        int expected = type.Split('/').Length - 1;
        if (names.Count != expected)
            throw call.Fail($"the resource type '{type}' needs {expected} resource name segment(s), not {names.Count}");
        return (type, string.Join('/', names));
    }

    // reference(resourceIdOrName, [apiVersion], ['Full']): the deployed resource's properties, or the whole resource.
    private static JsonNode? Reference(FunctionCall call)
    {
        call.Arity(1, 3);
        string target = call.String(0);
        string? apiVersion = call.Count > 1 ? call.String(1) : null;
        bool full = call.Count > 2 && call.String(2).Equals("Full", StringComparison.OrdinalIgnoreCase);
        IReferenceResolver references = call.Context.References
            ?? throw call.Fail("it can be used only in resource properties and outputs, where deployed resources are known");
        string id = target.StartsWith('/')
            ? target
            : call.Context.Scope.ResourceIdsByName.GetValueOrDefault(target)
                ?? throw call.Fail($"the template reference '{target}' is not valid: could not find template resource or resource copy with this name");
        JsonObject resource = references.Resolve(id, apiVersion)
            ?? throw call.Fail($"the resource '{id}' does not exist or has not been deployed yet (is it in dependsOn?)");
        if (full)
            return resource.DeepClone();
        return TemplateValues.TryGetMember(resource, "properties", out JsonNode? properties) ? TemplateValues.Detach(properties) : new JsonObject();
    }
}
