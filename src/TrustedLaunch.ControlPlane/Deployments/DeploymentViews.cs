using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using TrustedLaunch.ControlPlane.Arm;

namespace TrustedLaunch.ControlPlane.Deployments;

/// <summary>Deployments and their operations in ARM's answer shapes (DeploymentExtended, DeploymentOperation).</summary>
public static class DeploymentViews
{
    public const string Type = "Microsoft.Resources/deployments";

    public static string Id(string subscriptionId, string resourceGroup, string name) =>
        $"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{Type}/{name}";

    public static JsonObject Resource(DeploymentRecord deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var properties = new JsonObject
        {
            ["templateHash"] = deployment.TemplateHash,
            ["parameters"] = JsonNode.Parse(deployment.ParametersJson),
            ["mode"] = deployment.Mode,
            ["provisioningState"] = deployment.ProvisioningState,
            ["timestamp"] = deployment.Timestamp.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["duration"] = XmlConvert.ToString(deployment.Timestamp - deployment.StartTime),
            ["correlationId"] = deployment.CorrelationId,
            ["outputResources"] = new JsonArray(deployment.Operations
                .Where(o => o.ProvisioningState == DeploymentStates.Succeeded)
                .Select(o => (JsonNode?)new JsonObject { ["id"] = o.ResourceId }).ToArray()),
        };
        if (deployment.OutputsJson is string outputs)
            properties["outputs"] = JsonNode.Parse(outputs);
        if (deployment.Error is ArmErrorDetail error)
            properties["error"] = ErrorNode(error);
        return new JsonObject
        {
            ["id"] = Id(deployment.SubscriptionId, deployment.ResourceGroup, deployment.Name),
            ["name"] = deployment.Name,
            ["type"] = Type,
            ["properties"] = properties,
        };
    }

    public static JsonObject Operations(DeploymentRecord deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        string deploymentId = Id(deployment.SubscriptionId, deployment.ResourceGroup, deployment.Name);
        var value = new JsonArray();
        foreach (DeploymentOperation operation in deployment.Operations)
        {
            var properties = new JsonObject
            {
                ["provisioningOperation"] = operation.ProvisioningOperation,
                ["provisioningState"] = operation.ProvisioningState,
                ["timestamp"] = operation.Timestamp.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["duration"] = operation.Duration is TimeSpan d ? XmlConvert.ToString(d) : null,
                ["statusCode"] = operation.StatusCode,
                ["statusMessage"] = operation.Error is ArmErrorDetail error
                    ? new JsonObject { ["status"] = "Failed", ["error"] = ErrorNode(error) }
                    : new JsonObject { ["status"] = operation.ProvisioningState },
                ["targetResource"] = new JsonObject
                {
                    ["id"] = operation.ResourceId,
                    ["resourceType"] = operation.ResourceType,
                    ["resourceName"] = operation.ResourceName,
                },
            };
            if (operation.Unchanged)
                properties["trustedLaunchExtensions"] = new JsonObject { ["unchanged"] = true };
            value.Add((JsonNode)new JsonObject
            {
                ["id"] = $"{deploymentId}/operations/{operation.OperationId}",
                ["operationId"] = operation.OperationId,
                ["properties"] = properties,
            });
        }

        return new JsonObject { ["value"] = value };
    }

    public static JsonNode? ErrorNode(ArmErrorDetail error) =>
        JsonNode.Parse(JsonSerializer.Serialize(error, ControlPlaneJson.Web.ArmErrorDetail));
}
