using System.Net;
using Microsoft.AspNetCore.Http;

namespace TrustedLaunch.Server.Endpoints;

/// <summary>
/// Until the API authenticates its callers, the endpoints that change what a VM is held to (relearning its baseline,
/// replacing or assigning reference policies) answer only callers on this machine: a service listening on a network
/// must not let anyone who reaches the port weaken an appraisal. Reads, challenges and evidence stay open — a token
/// still needs genuine evidence. A proxy on the same host makes every caller local; it must authenticate them.
/// </summary>
internal sealed class LoopbackOnlyFilter : IEndpointFilter
{
    public static bool IsLocal(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // With authentication on, the security middleware has already decided by role; its caller passes.
        if (TrustedLaunch.Server.Security.ServiceCaller.Of(context) is not null)
            return true;
        IPAddress? remote = context.Connection.RemoteIpAddress;
        return remote is null || IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote);
    }

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (IsLocal(context.HttpContext))
            return next(context);
        return ValueTask.FromResult<object?>(VmAttestationEndpoints.Problem(StatusCodes.Status403Forbidden, ServiceProblem.LocalCallersOnly,
            "Local callers only",
            "This endpoint changes how VMs are appraised and the API does not authenticate callers yet: call it from the service's own host (tl server policy …, or loopback)."));
    }
}
