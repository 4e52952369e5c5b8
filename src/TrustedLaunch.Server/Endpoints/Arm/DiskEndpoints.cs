using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Disks;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// Microsoft.Compute/disks (the disk RP's api-versions): GET, list per resource group and per subscription, DELETE (refused while
/// attached; 202 while the host removes an Unattached disk's files, then 404). Disks are made with their VMs.
/// </summary>
internal static class DiskEndpoints
{
    private const string Disk = "/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute/disks/{diskName}";

    public static void Map(RouteGroupBuilder arm)
    {
        arm.MapGet(Disk, GetAsync).Kind(ArmResourceKind.Disk).WithName("Disks_Get").Produces<DiskResource>();
        arm.MapDelete(Disk, DeleteAsync).Kind(ArmResourceKind.Disk).WithName("Disks_Delete")
            .Produces(StatusCodes.Status202Accepted).Produces(StatusCodes.Status204NoContent)
            .Produces<ArmErrorResponse>(StatusCodes.Status409Conflict).Produces<ArmErrorResponse>(StatusCodes.Status412PreconditionFailed);
        arm.MapGet("/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute/disks",
                (string subscriptionId, string resourceGroupName, HttpContext context, DiskService disks, CancellationToken cancellationToken) =>
                    ListAsync(subscriptionId, resourceGroupName, context, disks, cancellationToken))
            .Kind(ArmResourceKind.Disk).WithName("Disks_ListByResourceGroup").Produces<ArmList<DiskResource>>();
        arm.MapGet("/{subscriptionId}/providers/Microsoft.Compute/disks",
                (string subscriptionId, HttpContext context, DiskService disks, CancellationToken cancellationToken) =>
                    ListAsync(subscriptionId, null, context, disks, cancellationToken))
            .Kind(ArmResourceKind.Disk).WithName("Disks_List").Produces<ArmList<DiskResource>>();
    }

    private static async Task<IResult> GetAsync(string subscriptionId, string resourceGroupName, string diskName, HttpContext context,
        DiskService disks, CancellationToken cancellationToken)
    {
        ArmResult<DiskRecord> found = await disks.GetAsync(new DiskKey(subscriptionId, resourceGroupName, diskName), cancellationToken);
        return found.Failure is ArmFailure failure
            ? ArmHttp.Error(failure)
            : ArmHttp.Json(context, DiskViews.Resource(found.Value!), ControlPlaneJson.Web.DiskResource, version: found.Value!.Version);
    }

    private static async Task<IResult> DeleteAsync(string subscriptionId, string resourceGroupName, string diskName, HttpContext context,
        DiskService disks, ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(resourceGroupName) is ArmFailure badGroup)
            return ArmHttp.Error(badGroup);
        ArmResult<OperationRecord?> deleting = await disks.DeleteAsync(new DiskKey(subscriptionId, resourceGroupName, diskName),
            context.Request.Headers.IfMatch, cancellationToken);
        if (deleting.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        if (deleting.Value is not OperationRecord operation)
            return Results.NoContent();
        // The operation monitor is a Compute one: its api-version is Compute's, not the disk RP's this request carried.
        ArmHttp.OperationHeaders(context, operation, accepted: true, options.RetryAfterSeconds, ApiVersions.Compute[0]);
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> ListAsync(string subscriptionId, string? resourceGroupName, HttpContext context, DiskService disks,
        CancellationToken cancellationToken)
    {
        ArmResult<IReadOnlyList<DiskRecord>> found = await disks.ListAsync(subscriptionId, resourceGroupName, cancellationToken);
        if (found.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        var list = new ArmList<DiskResource> { Value = [.. found.Value!.Select(DiskViews.Resource)] };
        return ArmHttp.Json(context, list, ControlPlaneJson.Web.ArmListDiskResource);
    }
}
