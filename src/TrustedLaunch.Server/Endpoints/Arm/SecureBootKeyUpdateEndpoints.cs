using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// The Secure Boot certificate rollover (ours: Azure has no such action): <c>POST …/virtualMachines/{name}/x-tl-updateSecureBootKeys</c>
/// (202 + <c>Azure-AsyncOperation</c>, the body saying whether it applies now or at the VM's next restart), and its fleet form
/// <c>POST …/resourceGroups/{rg}/providers/Microsoft.Compute/x-tl-updateSecureBootKeys</c> (200, one entry per VM, each VM its own operation).
/// </summary>
internal static class SecureBootKeyUpdateEndpoints
{
    private const string Group = "/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute";

    public static void Map(RouteGroupBuilder arm)
    {
        arm.MapPost(Group + "/virtualMachines/{vmName}/x-tl-updateSecureBootKeys", UpdateVmAsync).Kind(ArmResourceKind.VirtualMachine)
            .WithName("VirtualMachines_UpdateSecureBootKeys").Accepts<SecureBootKeyUpdateRequest>("application/json")
            .Produces<SecureBootKeyUpdateVmResult>(StatusCodes.Status202Accepted).Produces<ArmErrorResponse>(StatusCodes.Status409Conflict);
        arm.MapPost(Group + "/x-tl-updateSecureBootKeys", UpdateFleetAsync).Kind(ArmResourceKind.VirtualMachine)
            .WithName("VirtualMachines_UpdateSecureBootKeysInGroup").Accepts<SecureBootKeyUpdateRequest>("application/json")
            .Produces<SecureBootKeyUpdateFleetResult>();
    }

    private static async Task<IResult> UpdateVmAsync(string subscriptionId, string resourceGroupName, string vmName, HttpContext context,
        SecureBootKeyUpdates updates, ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        (SecureBootKeyUpdateRequest? request, IResult? refusal) = await ReadAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        var key = new VirtualMachineKey(subscriptionId, resourceGroupName, vmName);
        ArmResult<SecureBootKeyUpdateVmResult> requested = await updates.RequestOneAsync(key, request!, cancellationToken);
        if (requested.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        SecureBootKeyUpdateVmResult result = requested.Value!;
        context.Response.Headers["Azure-AsyncOperation"] = ArmHttp.Absolute(context, result.OperationUrl!);
        context.Response.Headers.Location = ArmHttp.Absolute(context, result.OperationUrl!);
        context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ArmHttp.Json(context, result, ControlPlaneJson.Web.SecureBootKeyUpdateVmResult, StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> UpdateFleetAsync(string subscriptionId, string resourceGroupName, HttpContext context, SecureBootKeyUpdates updates,
        CancellationToken cancellationToken)
    {
        (SecureBootKeyUpdateRequest? request, IResult? refusal) = await ReadAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        ArmResult<SecureBootKeyUpdateFleetResult> requested = await updates.RequestFleetAsync(subscriptionId, resourceGroupName, request!, cancellationToken);
        return requested.Failure is ArmFailure failure
            ? ArmHttp.Error(failure)
            : ArmHttp.Json(context, requested.Value!, ControlPlaneJson.Web.SecureBootKeyUpdateFleetResult);
    }

    private static async Task<(SecureBootKeyUpdateRequest? Request, IResult? Refusal)> ReadAsync(HttpContext context, CancellationToken cancellationToken)
    {
        (byte[]? body, IResult? tooLarge) = await ArmHttp.ReadBodyAsync(context, cancellationToken);
        if (tooLarge is not null)
            return (null, tooLarge);
        ArmResult<SecureBootKeyUpdateRequest> read = ControlPlaneJson.Read(body, ControlPlaneJson.Default.SecureBootKeyUpdateRequest);
        return read.Failure is ArmFailure bad ? (null, ArmHttp.Error(bad)) : (read.Value, null);
    }
}
