using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.ScaleSets;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// Microsoft.Compute/virtualMachines: PUT (201 + <c>Azure-AsyncOperation</c> on create), PATCH, GET
/// (<c>$expand=instanceView</c>), list per resource group and per subscription (<c>nextLink</c>), DELETE (202, then
/// 404), POST start/powerOff/deallocate/restart (202 + <c>Location</c> + <c>Retry-After</c>) and the instance view.
/// </summary>
internal static class VirtualMachineEndpoints
{
    private const string Vm = "/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{vmName}";

    public static void Map(RouteGroupBuilder arm)
    {
        arm.MapPut(Vm, PutAsync).Kind(ArmResourceKind.VirtualMachine).WithName("VirtualMachines_CreateOrUpdate")
            .Accepts<VirtualMachineResource>("application/json")
            .Produces<VirtualMachineResource>().Produces<VirtualMachineResource>(StatusCodes.Status201Created)
            .Produces<ArmErrorResponse>(StatusCodes.Status409Conflict).Produces<ArmErrorResponse>(StatusCodes.Status412PreconditionFailed);
        arm.MapPatch(Vm, PatchAsync).Kind(ArmResourceKind.VirtualMachine).WithName("VirtualMachines_Update")
            .Accepts<VirtualMachineResource>("application/json").Produces<VirtualMachineResource>()
            .Produces<ArmErrorResponse>(StatusCodes.Status409Conflict).Produces<ArmErrorResponse>(StatusCodes.Status412PreconditionFailed);
        arm.MapGet(Vm, GetAsync).Kind(ArmResourceKind.VirtualMachine).WithName("VirtualMachines_Get").Produces<VirtualMachineResource>();
        arm.MapDelete(Vm, DeleteAsync).Kind(ArmResourceKind.VirtualMachine).WithName("VirtualMachines_Delete")
            .Produces(StatusCodes.Status202Accepted).Produces(StatusCodes.Status204NoContent).Produces<ArmErrorResponse>(StatusCodes.Status412PreconditionFailed);
        foreach ((string verb, VmAction action) in new[]
            { ("start", VmAction.Start), ("powerOff", VmAction.PowerOff), ("deallocate", VmAction.Deallocate), ("restart", VmAction.Restart) })
        {
            arm.MapPost($"{Vm}/{verb}", (string subscriptionId, string resourceGroupName, string vmName, HttpContext context,
                    VirtualMachineLifecycle lifecycle, ControlPlaneOptions options, CancellationToken cancellationToken) =>
                    ActAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName), action, context, lifecycle, options, cancellationToken))
                .Kind(ArmResourceKind.VirtualMachine).WithName("VirtualMachines_" + char.ToUpperInvariant(verb[0]) + verb[1..])
                .Produces(StatusCodes.Status202Accepted).Produces<ArmErrorResponse>(StatusCodes.Status409Conflict);
        }

        arm.MapGet(Vm + "/instanceView", InstanceViewAsync).Kind(ArmResourceKind.VirtualMachine).WithName("VirtualMachines_InstanceView")
            .Produces<VirtualMachineInstanceView>();
        arm.MapGet("/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines", ListInGroupAsync)
            .Kind(ArmResourceKind.VirtualMachine).WithName("VirtualMachines_List").Produces<ArmList<VirtualMachineResource>>();
        arm.MapGet("/{subscriptionId}/providers/Microsoft.Compute/virtualMachines", ListInSubscriptionAsync)
            .Kind(ArmResourceKind.VirtualMachine).WithName("VirtualMachines_ListAll").Produces<ArmList<VirtualMachineResource>>();
    }

    private static Task<IResult> PutAsync(string subscriptionId, string resourceGroupName, string vmName, HttpContext context,
        VirtualMachineService vms, CancellationToken cancellationToken) =>
        WriteAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName), patch: false, context, vms, cancellationToken);

    private static Task<IResult> PatchAsync(string subscriptionId, string resourceGroupName, string vmName, HttpContext context,
        VirtualMachineService vms, CancellationToken cancellationToken) =>
        WriteAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName), patch: true, context, vms, cancellationToken);

    private static async Task<IResult> WriteAsync(VirtualMachineKey key, bool patch, HttpContext context, VirtualMachineService vms,
        CancellationToken cancellationToken)
    {
        (byte[]? body, IResult? refusal) = await ArmHttp.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        ArmResult<VmWriteResult> written = await vms.PutAsync(key, body, context.Request.Headers.IfMatch, context.Request.Headers.IfNoneMatch, patch,
            cancellationToken);
        if (written.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        VmWriteResult result = written.Value!;
        if (result.Operation is OperationRecord operation)
            ArmHttp.OperationHeaders(context, operation, accepted: false, retryAfterSeconds: 0);
        return ArmHttp.Json(context, VirtualMachineViews.Resource(result.Vm, ArmHttp.ApiVersion(context)), ControlPlaneJson.Web.VirtualMachineResource,
            result.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK, result.Vm.Version);
    }

    private static async Task<IResult> GetAsync(string subscriptionId, string resourceGroupName, string vmName,
        [FromQuery(Name = "$expand")] string? expand, HttpContext context, VirtualMachineService vms, CancellationToken cancellationToken)
    {
        ArmResult<VirtualMachineRecord> found = await vms.GetAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName), cancellationToken);
        if (found.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        VirtualMachineRecord vm = found.Value!;
        VirtualMachineInstanceView? view = string.Equals(expand, "instanceView", StringComparison.OrdinalIgnoreCase)
            ? await vms.InstanceViewAsync(vm, cancellationToken)
            : null;
        return ArmHttp.Json(context, VirtualMachineViews.Resource(vm, ArmHttp.ApiVersion(context), view), ControlPlaneJson.Web.VirtualMachineResource,
            version: vm.Version);
    }

    private static async Task<IResult> DeleteAsync(string subscriptionId, string resourceGroupName, string vmName, HttpContext context,
        VirtualMachineScaleSetService scaleSets, ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(resourceGroupName) is ArmFailure badGroup)
            return ArmHttp.Error(badGroup);
        ArmResult<OperationRecord?> deleting = await scaleSets.DeleteVirtualMachineAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName),
            context.Request.Headers.IfMatch, cancellationToken);
        if (deleting.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        if (deleting.Value is not OperationRecord operation)
            return Results.NoContent();
        ArmHttp.OperationHeaders(context, operation, accepted: true, options.RetryAfterSeconds);
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> ActAsync(VirtualMachineKey key, VmAction action, HttpContext context, VirtualMachineLifecycle lifecycle,
        ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        ArmResult<OperationRecord> acting = await lifecycle.ActAsync(key, action, cancellationToken);
        if (acting.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        ArmHttp.OperationHeaders(context, acting.Value!, accepted: true, options.RetryAfterSeconds);
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> InstanceViewAsync(string subscriptionId, string resourceGroupName, string vmName, HttpContext context,
        VirtualMachineService vms, CancellationToken cancellationToken)
    {
        ArmResult<VirtualMachineInstanceView> view = await vms.GetInstanceViewAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName),
            cancellationToken);
        return view.Failure is ArmFailure failure ? ArmHttp.Error(failure) : ArmHttp.Json(context, view.Value!, ControlPlaneJson.Web.VirtualMachineInstanceView);
    }

    private static Task<IResult> ListInGroupAsync(string subscriptionId, string resourceGroupName, [FromQuery(Name = "$skiptoken")] string? skipToken,
        HttpContext context, VirtualMachineService vms, CancellationToken cancellationToken) =>
        ListAsync(subscriptionId, resourceGroupName, skipToken, context, vms, cancellationToken);

    private static Task<IResult> ListInSubscriptionAsync(string subscriptionId, [FromQuery(Name = "$skiptoken")] string? skipToken,
        HttpContext context, VirtualMachineService vms, CancellationToken cancellationToken) =>
        ListAsync(subscriptionId, null, skipToken, context, vms, cancellationToken);

    private static async Task<IResult> ListAsync(string subscriptionId, string? resourceGroupName, string? skipToken, HttpContext context,
        VirtualMachineService vms, CancellationToken cancellationToken)
    {
        ArmResult<Page<VirtualMachineRecord>> page = await vms.ListAsync(subscriptionId, resourceGroupName, skipToken, cancellationToken);
        if (page.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        string apiVersion = ArmHttp.ApiVersion(context);
        var list = new ArmList<VirtualMachineResource>
        {
            Value = page.Value!.Items.Select(vm => VirtualMachineViews.Resource(vm, apiVersion)).ToArray(),
            NextLink = ArmHttp.NextLink(context, page.Value.ContinuationToken),
        };
        return ArmHttp.Json(context, list, ControlPlaneJson.Web.ArmListVirtualMachineResource);
    }
}
