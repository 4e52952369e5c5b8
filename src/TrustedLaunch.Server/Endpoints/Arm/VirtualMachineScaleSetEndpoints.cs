using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.ScaleSets;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// Microsoft.Compute/virtualMachineScaleSets (flexible orchestration): PUT (201 + <c>Azure-AsyncOperation</c> on create),
/// PATCH (<c>sku.capacity</c> scales out and in), GET, list per resource group and per subscription, DELETE (202, then 404)
/// and the instances (<c>…/virtualMachines</c>: full VM resources).
/// </summary>
internal static class VirtualMachineScaleSetEndpoints
{
    private const string Collection = "/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachineScaleSets";
    private const string ScaleSet = Collection + "/{vmScaleSetName}";

    public static void Map(RouteGroupBuilder arm)
    {
        arm.MapPut(ScaleSet, PutAsync).Kind(ArmResourceKind.VirtualMachineScaleSet).WithName("VirtualMachineScaleSets_CreateOrUpdate")
            .Accepts<VirtualMachineScaleSetResource>("application/json")
            .Produces<VirtualMachineScaleSetResource>().Produces<VirtualMachineScaleSetResource>(StatusCodes.Status201Created)
            .Produces<ArmErrorResponse>(StatusCodes.Status409Conflict).Produces<ArmErrorResponse>(StatusCodes.Status412PreconditionFailed);
        arm.MapPatch(ScaleSet, PatchAsync).Kind(ArmResourceKind.VirtualMachineScaleSet).WithName("VirtualMachineScaleSets_Update")
            .Accepts<VirtualMachineScaleSetResource>("application/json").Produces<VirtualMachineScaleSetResource>()
            .Produces<ArmErrorResponse>(StatusCodes.Status409Conflict).Produces<ArmErrorResponse>(StatusCodes.Status412PreconditionFailed);
        arm.MapGet(ScaleSet, GetAsync).Kind(ArmResourceKind.VirtualMachineScaleSet).WithName("VirtualMachineScaleSets_Get")
            .Produces<VirtualMachineScaleSetResource>();
        arm.MapDelete(ScaleSet, DeleteAsync).Kind(ArmResourceKind.VirtualMachineScaleSet).WithName("VirtualMachineScaleSets_Delete")
            .Produces(StatusCodes.Status202Accepted).Produces(StatusCodes.Status204NoContent).Produces<ArmErrorResponse>(StatusCodes.Status412PreconditionFailed);
        arm.MapGet(ScaleSet + "/virtualMachines", ListInstancesAsync).Kind(ArmResourceKind.VirtualMachineScaleSet)
            .WithName("VirtualMachineScaleSetVMs_List").Produces<ArmList<VirtualMachineResource>>();
        arm.MapGet(Collection, (string subscriptionId, string resourceGroupName, HttpContext context, VirtualMachineScaleSetService scaleSets,
                CancellationToken cancellationToken) => ListAsync(subscriptionId, resourceGroupName, context, scaleSets, cancellationToken))
            .Kind(ArmResourceKind.VirtualMachineScaleSet).WithName("VirtualMachineScaleSets_List").Produces<ArmList<VirtualMachineScaleSetResource>>();
        arm.MapGet("/{subscriptionId}/providers/Microsoft.Compute/virtualMachineScaleSets", (string subscriptionId, HttpContext context,
                VirtualMachineScaleSetService scaleSets, CancellationToken cancellationToken) => ListAsync(subscriptionId, null, context, scaleSets, cancellationToken))
            .Kind(ArmResourceKind.VirtualMachineScaleSet).WithName("VirtualMachineScaleSets_ListAll").Produces<ArmList<VirtualMachineScaleSetResource>>();
    }

    private static Task<IResult> PutAsync(string subscriptionId, string resourceGroupName, string vmScaleSetName, HttpContext context,
        VirtualMachineScaleSetService scaleSets, ControlPlaneOptions options, CancellationToken cancellationToken) =>
        WriteAsync(new ScaleSetKey(subscriptionId, resourceGroupName, vmScaleSetName), patch: false, context, scaleSets, options, cancellationToken);

    private static Task<IResult> PatchAsync(string subscriptionId, string resourceGroupName, string vmScaleSetName, HttpContext context,
        VirtualMachineScaleSetService scaleSets, ControlPlaneOptions options, CancellationToken cancellationToken) =>
        WriteAsync(new ScaleSetKey(subscriptionId, resourceGroupName, vmScaleSetName), patch: true, context, scaleSets, options, cancellationToken);

    private static async Task<IResult> WriteAsync(ScaleSetKey key, bool patch, HttpContext context, VirtualMachineScaleSetService scaleSets,
        ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        (byte[]? body, IResult? refusal) = await ArmHttp.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        ArmResult<ScaleSetWriteResult> written = await scaleSets.CreateOrUpdateAsync(key, body, context.Request.Headers.IfMatch,
            context.Request.Headers.IfNoneMatch, patch, cancellationToken);
        if (written.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        ScaleSetWriteResult result = written.Value!;
        if (result.Operation is OperationRecord operation)
            ArmHttp.OperationHeaders(context, operation, accepted: false, options.RetryAfterSeconds);
        return ArmHttp.Json(context, ScaleSetViews.Resource(result.ScaleSet, ArmHttp.ApiVersion(context)), ControlPlaneJson.Web.VirtualMachineScaleSetResource,
            result.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK, result.ScaleSet.Version);
    }

    private static async Task<IResult> GetAsync(string subscriptionId, string resourceGroupName, string vmScaleSetName, HttpContext context,
        VirtualMachineScaleSetService scaleSets, CancellationToken cancellationToken)
    {
        ArmResult<VirtualMachineScaleSetRecord> found = await scaleSets.GetAsync(new ScaleSetKey(subscriptionId, resourceGroupName, vmScaleSetName), cancellationToken);
        if (found.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        return ArmHttp.Json(context, ScaleSetViews.Resource(found.Value!, ArmHttp.ApiVersion(context)), ControlPlaneJson.Web.VirtualMachineScaleSetResource,
            version: found.Value!.Version);
    }

    private static async Task<IResult> DeleteAsync(string subscriptionId, string resourceGroupName, string vmScaleSetName, HttpContext context,
        VirtualMachineScaleSetService scaleSets, ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        ArmResult<OperationRecord?> deleting = await scaleSets.DeleteAsync(new ScaleSetKey(subscriptionId, resourceGroupName, vmScaleSetName),
            context.Request.Headers.IfMatch, cancellationToken);
        if (deleting.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        if (deleting.Value is not OperationRecord operation)
            return Results.NoContent();
        ArmHttp.OperationHeaders(context, operation, accepted: true, options.RetryAfterSeconds);
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> ListInstancesAsync(string subscriptionId, string resourceGroupName, string vmScaleSetName, HttpContext context,
        VirtualMachineScaleSetService scaleSets, CancellationToken cancellationToken)
    {
        ArmResult<IReadOnlyList<VirtualMachineRecord>> instances = await scaleSets.ListInstancesAsync(
            new ScaleSetKey(subscriptionId, resourceGroupName, vmScaleSetName), cancellationToken);
        if (instances.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        string apiVersion = ArmHttp.ApiVersion(context);
        var list = new ArmList<VirtualMachineResource> { Value = [.. instances.Value!.Select(vm => VirtualMachineViews.Resource(vm, apiVersion))] };
        return ArmHttp.Json(context, list, ControlPlaneJson.Web.ArmListVirtualMachineResource);
    }

    private static async Task<IResult> ListAsync(string subscriptionId, string? resourceGroupName, HttpContext context,
        VirtualMachineScaleSetService scaleSets, CancellationToken cancellationToken)
    {
        ArmResult<IReadOnlyList<VirtualMachineScaleSetRecord>> listed = await scaleSets.ListAsync(subscriptionId, resourceGroupName, cancellationToken);
        if (listed.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        string apiVersion = ArmHttp.ApiVersion(context);
        var list = new ArmList<VirtualMachineScaleSetResource> { Value = [.. listed.Value!.Select(s => ScaleSetViews.Resource(s, apiVersion))] };
        return ArmHttp.Json(context, list, ControlPlaneJson.Web.ArmListVirtualMachineScaleSetResource);
    }
}
