using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.Snapshots;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// Microsoft.Compute/snapshots (the disk RP's api-versions): PUT (201 + <c>Azure-AsyncOperation</c> while the VM's host copies
/// the pair), GET, list per resource group and per subscription, DELETE (202 while the host removes the files, then 404).
/// </summary>
internal static class SnapshotEndpoints
{
    private const string Snapshot = "/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute/snapshots/{snapshotName}";

    public static void Map(RouteGroupBuilder arm)
    {
        arm.MapPut(Snapshot, PutAsync).Kind(ArmResourceKind.Snapshot).WithName("Snapshots_CreateOrUpdate").Accepts<SnapshotResource>("application/json")
            .Produces<SnapshotResource>().Produces<SnapshotResource>(StatusCodes.Status201Created)
            .Produces<ArmErrorResponse>(StatusCodes.Status409Conflict).Produces<ArmErrorResponse>(StatusCodes.Status412PreconditionFailed);
        // Ours: restore into the same VM (its disk and VMGS roll back together; a sanctioned restore for the verifier).
        arm.MapPost("/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{vmName}/restoreFromSnapshot", RestoreAsync)
            .Kind(ArmResourceKind.VirtualMachine).WithName("VirtualMachines_RestoreFromSnapshot").Accepts<RestoreFromSnapshotRequest>("application/json")
            .Produces(StatusCodes.Status202Accepted).Produces<ArmErrorResponse>(StatusCodes.Status409Conflict);
        arm.MapGet(Snapshot, GetAsync).Kind(ArmResourceKind.Snapshot).WithName("Snapshots_Get").Produces<SnapshotResource>();
        arm.MapDelete(Snapshot, DeleteAsync).Kind(ArmResourceKind.Snapshot).WithName("Snapshots_Delete")
            .Produces(StatusCodes.Status202Accepted).Produces(StatusCodes.Status204NoContent).Produces<ArmErrorResponse>(StatusCodes.Status412PreconditionFailed);
        arm.MapGet("/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute/snapshots",
                (string subscriptionId, string resourceGroupName, HttpContext context, SnapshotService snapshots, CancellationToken cancellationToken) =>
                    ListAsync(subscriptionId, resourceGroupName, context, snapshots, cancellationToken))
            .Kind(ArmResourceKind.Snapshot).WithName("Snapshots_ListByResourceGroup").Produces<ArmList<SnapshotResource>>();
        arm.MapGet("/{subscriptionId}/providers/Microsoft.Compute/snapshots",
                (string subscriptionId, HttpContext context, SnapshotService snapshots, CancellationToken cancellationToken) =>
                    ListAsync(subscriptionId, null, context, snapshots, cancellationToken))
            .Kind(ArmResourceKind.Snapshot).WithName("Snapshots_List").Produces<ArmList<SnapshotResource>>();
    }

    private static async Task<IResult> RestoreAsync(string subscriptionId, string resourceGroupName, string vmName, HttpContext context,
        SnapshotRestoreService restores, ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        (byte[]? body, IResult? refusal) = await ArmHttp.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        ArmResult<OperationRecord> restoring = await restores.RestoreAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName), body, cancellationToken);
        if (restoring.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        ArmHttp.OperationHeaders(context, restoring.Value!, accepted: true, options.RetryAfterSeconds);
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> PutAsync(string subscriptionId, string resourceGroupName, string snapshotName, HttpContext context,
        SnapshotService snapshots, CancellationToken cancellationToken)
    {
        (byte[]? body, IResult? refusal) = await ArmHttp.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        ArmResult<SnapshotWriteResult> written = await snapshots.PutAsync(new SnapshotKey(subscriptionId, resourceGroupName, snapshotName), body,
            context.Request.Headers.IfMatch, context.Request.Headers.IfNoneMatch, cancellationToken);
        if (written.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        SnapshotWriteResult result = written.Value!;
        if (result.Operation is OperationRecord operation)
            Monitor(context, operation, accepted: false, 0);
        return ArmHttp.Json(context, SnapshotViews.Resource(result.Snapshot), ControlPlaneJson.Web.SnapshotResource,
            result.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK, result.Snapshot.Version);
    }

    private static async Task<IResult> GetAsync(string subscriptionId, string resourceGroupName, string snapshotName, HttpContext context,
        SnapshotService snapshots, CancellationToken cancellationToken)
    {
        ArmResult<SnapshotRecord> found = await snapshots.GetAsync(new SnapshotKey(subscriptionId, resourceGroupName, snapshotName), cancellationToken);
        return found.Failure is ArmFailure failure
            ? ArmHttp.Error(failure)
            : ArmHttp.Json(context, SnapshotViews.Resource(found.Value!), ControlPlaneJson.Web.SnapshotResource, version: found.Value!.Version);
    }

    private static async Task<IResult> DeleteAsync(string subscriptionId, string resourceGroupName, string snapshotName, HttpContext context,
        SnapshotService snapshots, ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(resourceGroupName) is ArmFailure badGroup)
            return ArmHttp.Error(badGroup);
        ArmResult<OperationRecord?> deleting = await snapshots.DeleteAsync(new SnapshotKey(subscriptionId, resourceGroupName, snapshotName),
            context.Request.Headers.IfMatch, cancellationToken);
        if (deleting.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        if (deleting.Value is not OperationRecord operation)
            return Results.NoContent();
        Monitor(context, operation, accepted: true, options.RetryAfterSeconds);
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> ListAsync(string subscriptionId, string? resourceGroupName, HttpContext context, SnapshotService snapshots,
        CancellationToken cancellationToken)
    {
        ArmResult<IReadOnlyList<SnapshotRecord>> found = await snapshots.ListAsync(subscriptionId, resourceGroupName, cancellationToken);
        if (found.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        var list = new ArmList<SnapshotResource> { Value = [.. found.Value!.Select(SnapshotViews.Resource)] };
        return ArmHttp.Json(context, list, ControlPlaneJson.Web.ArmListSnapshotResource);
    }

    // The operation monitor is a Compute one: its api-version is Compute's, not the disk RP's this request carried.
    // The operation monitor is a Compute one: its api-version is Compute's, not the disk RP's this request carried.
    private static void Monitor(HttpContext context, OperationRecord operation, bool accepted, int retryAfterSeconds) =>
        ArmHttp.OperationHeaders(context, operation, accepted, retryAfterSeconds, ApiVersions.Compute[0]);
}
