using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Deployments;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// Microsoft.Resources/deployments at resource group scope: PUT (201, validated completely before anything is created),
/// validate and whatIf (the same checks, nothing changed), GET, list, and the deployment's operations; and the guest attestation extension a deployment records on a VM.
/// </summary>
internal static class DeploymentEndpoints
{
    private const string Deployments = "/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Resources/deployments";

    public static void Map(RouteGroupBuilder arm)
    {
        arm.MapPut(Deployments + "/{deploymentName}", PutAsync).Kind(ArmResourceKind.ResourceGroup).WithName("Deployments_CreateOrUpdate")
            .Accepts<JsonObject>("application/json").Produces<JsonObject>(StatusCodes.Status201Created).Produces<ArmErrorResponse>(StatusCodes.Status409Conflict);
        arm.MapPost(Deployments + "/{deploymentName}/validate", ValidateAsync).Kind(ArmResourceKind.ResourceGroup).WithName("Deployments_Validate")
            .Accepts<JsonObject>("application/json").Produces<JsonObject>().Produces<ArmErrorResponse>(StatusCodes.Status400BadRequest);
        arm.MapPost(Deployments + "/{deploymentName}/whatIf", WhatIfAsync).Kind(ArmResourceKind.ResourceGroup).WithName("Deployments_WhatIf")
            .Accepts<JsonObject>("application/json").Produces<JsonObject>().Produces<ArmErrorResponse>(StatusCodes.Status400BadRequest);
        arm.MapGet(Deployments + "/{deploymentName}", GetAsync).Kind(ArmResourceKind.ResourceGroup).WithName("Deployments_Get").Produces<JsonObject>();
        arm.MapGet(Deployments, ListAsync).Kind(ArmResourceKind.ResourceGroup).WithName("Deployments_ListByResourceGroup").Produces<JsonObject>();
        arm.MapGet(Deployments + "/{deploymentName}/operations", OperationsAsync).Kind(ArmResourceKind.ResourceGroup)
            .WithName("DeploymentOperations_List").Produces<JsonObject>();
        arm.MapGet("/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{vmName}/extensions/{extensionName}",
                ExtensionAsync).Kind(ArmResourceKind.VirtualMachine).WithName("VirtualMachineExtensions_Get").Produces<JsonObject>();
    }

    private static async Task<IResult> PutAsync(string subscriptionId, string resourceGroupName, string deploymentName, HttpContext context,
        DeploymentService deployments, CancellationToken cancellationToken)
    {
        (byte[]? body, IResult? refusal) = await ArmHttp.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        ArmResult<DeploymentRecord> accepted = await deployments.PutAsync(subscriptionId, resourceGroupName, deploymentName, body, cancellationToken);
        return accepted.Failure is ArmFailure failure
            ? ArmHttp.Error(failure)
            : Node(DeploymentViews.Resource(accepted.Value!), StatusCodes.Status201Created);
    }

    private static async Task<IResult> ValidateAsync(string subscriptionId, string resourceGroupName, string deploymentName, HttpContext context,
        DeploymentService deployments, CancellationToken cancellationToken)
    {
        (byte[]? body, IResult? refusal) = await ArmHttp.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        ArmResult<JsonObject> valid = await deployments.ValidateAsync(subscriptionId, resourceGroupName, deploymentName, body, cancellationToken);
        return valid.Failure is ArmFailure failure ? ArmHttp.Error(failure) : Node(valid.Value!);
    }

    // ARM answers 202 and a Location to poll; the comparison here is quick, so the final result comes at once (200), which
    // ARM's long-running-operation clients accept as the operation's end.
    private static async Task<IResult> WhatIfAsync(string subscriptionId, string resourceGroupName, string deploymentName, HttpContext context,
        DeploymentService deployments, CancellationToken cancellationToken)
    {
        (byte[]? body, IResult? refusal) = await ArmHttp.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        ArmResult<JsonObject> changes = await deployments.WhatIfAsync(subscriptionId, resourceGroupName, deploymentName, body, cancellationToken);
        return changes.Failure is ArmFailure failure ? ArmHttp.Error(failure) : Node(changes.Value!);
    }

    private static async Task<IResult> GetAsync(string subscriptionId, string resourceGroupName, string deploymentName, DeploymentService deployments,
        CancellationToken cancellationToken)
    {
        ArmResult<DeploymentRecord> found = await deployments.GetAsync(subscriptionId, resourceGroupName, deploymentName, cancellationToken);
        return found.Failure is ArmFailure failure ? ArmHttp.Error(failure) : Node(DeploymentViews.Resource(found.Value!));
    }

    private static async Task<IResult> ListAsync(string subscriptionId, string resourceGroupName, DeploymentService deployments, CancellationToken cancellationToken)
    {
        ArmResult<IReadOnlyList<DeploymentRecord>> found = await deployments.ListAsync(subscriptionId, resourceGroupName, cancellationToken);
        if (found.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        return Node(new JsonObject { ["value"] = new JsonArray(found.Value!.Select(d => (JsonNode?)DeploymentViews.Resource(d)).ToArray()) });
    }

    private static async Task<IResult> OperationsAsync(string subscriptionId, string resourceGroupName, string deploymentName, DeploymentService deployments,
        CancellationToken cancellationToken)
    {
        ArmResult<DeploymentRecord> found = await deployments.GetAsync(subscriptionId, resourceGroupName, deploymentName, cancellationToken);
        return found.Failure is ArmFailure failure ? ArmHttp.Error(failure) : Node(DeploymentViews.Operations(found.Value!));
    }

    private static async Task<IResult> ExtensionAsync(string subscriptionId, string resourceGroupName, string vmName, string extensionName,
        ResourceTypeRegistry registry, CancellationToken cancellationToken)
    {
        JsonObject? state = registry.Find(GuestAttestationExtensionHandler.Type) is IResourceTypeHandler handler
            ? await handler.GetStateAsync(subscriptionId, resourceGroupName, $"{vmName}/{extensionName}", cancellationToken)
            : null;
        return state is null
            ? ArmHttp.Error(ArmErrors.ResourceNotFound(GuestAttestationExtensionHandler.Type, $"{vmName}/{extensionName}", resourceGroupName))
            : Node(state);
    }

    public static IResult Node(JsonNode node, int status = StatusCodes.Status200OK) =>
        Results.Content(node.ToJsonString(), "application/json", System.Text.Encoding.UTF8, status);
}
