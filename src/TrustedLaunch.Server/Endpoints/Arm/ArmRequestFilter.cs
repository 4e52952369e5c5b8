using Microsoft.AspNetCore.Http;
using System.Data.Common;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// What every ARM request goes through, in ARM's order: the correlation headers, <c>api-version</c> (required; a
/// missing or unknown one is a 400 listing the supported versions), and the subscription in the path (a GUID that
/// exists). A store that cannot be used answers 503 in ARM's envelope.
/// </summary>
internal sealed class ArmRequestFilter(SubscriptionService subscriptions, ControlPlaneOptions options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        HttpContext http = context.HttpContext;
        CorrelationHeaders(http);
        if (http.GetEndpoint()?.Metadata.GetMetadata<ArmKindMetadata>() is ArmKindMetadata kind)
        {
            string location = http.Request.RouteValues["location"] as string ?? options.DefaultLocation;
            string? apiVersion = http.Request.Query[ArmHttp.ApiVersionParameter].FirstOrDefault();
            if (ApiVersions.Check(apiVersion, kind.Kind, location, options.KnownLocations(location)) is ArmFailure badVersion)
                return ArmHttp.Error(badVersion);
        }

        try
        {
            if (http.Request.RouteValues["subscriptionId"] is string subscriptionId
                && await subscriptions.CheckAsync(subscriptionId, http.RequestAborted) is ArmFailure badSubscription)
                return ArmHttp.Error(badSubscription);
            return await next(context);
        }
        catch (Exception e) when (e is StoreException or DbException && !http.RequestAborted.IsCancellationRequested)
        {
            return ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status503ServiceUnavailable, "ServiceUnavailable",
                "The control plane's database could not be used; retry later."));
        }
    }

    // x-ms-request-id: ours, new per request; x-ms-correlation-request-id: the caller's, else new; x-ms-client-request-id:
    // echoed when the caller asks with x-ms-return-client-request-id: true.
    private static void CorrelationHeaders(HttpContext http)
    {
        IHeaderDictionary request = http.Request.Headers;
        IHeaderDictionary response = http.Response.Headers;
        response["x-ms-request-id"] = Guid.NewGuid().ToString();
        response["x-ms-correlation-request-id"] = request["x-ms-correlation-request-id"].FirstOrDefault() is { Length: > 0 and <= 128 } correlation
            ? correlation
            : Guid.NewGuid().ToString();
        if (string.Equals(request["x-ms-return-client-request-id"], "true", StringComparison.OrdinalIgnoreCase)
            && request["x-ms-client-request-id"].FirstOrDefault() is { Length: > 0 and <= 128 } client)
            response["x-ms-client-request-id"] = client;
    }
}
