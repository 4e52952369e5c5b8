using Microsoft.AspNetCore.Http;
using TrustedLaunch.ControlPlane.Arm;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// <see cref="LoopbackOnlyFilter"/>'s rule in ARM's envelope, for the control-plane endpoints that must not be open to
/// the network while the API does not authenticate: the host contract (a caller could pose as a host and report VMs
/// running) and image registration (it names a file on the server). 403 <c>AuthorizationFailed</c> for other callers.
/// </summary>
internal sealed class ArmLoopbackOnlyFilter : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (LoopbackOnlyFilter.IsLocal(context.HttpContext))
            return next(context);
        return ValueTask.FromResult<object?>(ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status403Forbidden, "AuthorizationFailed",
            "This endpoint answers callers on the service's own host only until the API authenticates its callers (hosts and image registration).")));
    }
}
