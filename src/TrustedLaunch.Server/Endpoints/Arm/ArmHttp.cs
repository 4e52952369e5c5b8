using System.Globalization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>Which api-version line an endpoint belongs to (read by <see cref="ArmRequestFilter"/>).</summary>
internal sealed record ArmKindMetadata(ArmResourceKind Kind);

/// <summary>Answers in ARM's conventions: the error envelope, ETags, the long-running-operation headers, absolute URLs.</summary>
internal static class ArmHttp
{
    public const string ApiVersionParameter = "api-version";

    /// <summary>ARM's limit on a request body.</summary>
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    public static RouteHandlerBuilder Kind(this RouteHandlerBuilder builder, ArmResourceKind kind) =>
        builder.WithMetadata(new ArmKindMetadata(kind)).ProducesArmErrors();

    public static RouteHandlerBuilder ProducesArmErrors(this RouteHandlerBuilder builder) =>
        builder.Produces<ArmErrorResponse>(StatusCodes.Status400BadRequest).Produces<ArmErrorResponse>(StatusCodes.Status404NotFound);

    public static IResult Error(ArmFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return Results.Json(new ArmErrorResponse { Error = failure.Error }, ControlPlaneJson.Web.ArmErrorResponse, "application/json", failure.StatusCode);
    }

    public static IResult Json<T>(HttpContext context, T value, JsonTypeInfo<T> type, int status = StatusCodes.Status200OK, long? version = null)
    {
        if (version is long v)
            context.Response.Headers.ETag = EntityTags.Format(v);
        return Results.Json(value, type, "application/json", status);
    }

    /// <summary>The api-version of the request (the first, if repeated).</summary>
    public static string ApiVersion(HttpContext context) => context.Request.Query[ApiVersionParameter].FirstOrDefault() ?? ApiVersions.Compute[0];

    /// <summary>An absolute URL on this server for <paramref name="pathAndQuery"/>, as ARM's headers and nextLinks carry them.</summary>
    public static string Absolute(HttpContext context, string pathAndQuery) =>
        $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{pathAndQuery}";

    /// <summary>
    /// <c>Azure-AsyncOperation</c> (and for 202 answers <c>Location</c> and <c>Retry-After</c>) of a running operation, on the
    /// request's api-version unless <paramref name="apiVersion"/> names the monitor's own (the disk RP's resources, whose
    /// operations are Compute's).
    /// </summary>
    public static void OperationHeaders(HttpContext context, OperationRecord operation, bool accepted, int retryAfterSeconds, string? apiVersion = null)
    {
        apiVersion ??= ApiVersion(context);
        context.Response.Headers["Azure-AsyncOperation"] = Absolute(context, VirtualMachineViews.OperationUrl(operation, apiVersion));
        if (!accepted)
            return;
        context.Response.Headers.Location = Absolute(context, VirtualMachineViews.OperationUrl(operation, apiVersion, monitor: operation.Kind != OperationKind.DeleteResourceGroup));
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The request body, or the refusal of one that is too large.</summary>
    public static async Task<(byte[]? Body, IResult? Refusal)> ReadBodyAsync(HttpContext context, CancellationToken cancellationToken)
    {
        byte[]? body = await RequestBody.ReadAsync(context, MaxBodyBytes, cancellationToken);
        return body is null
            ? (null, Error(ArmErrors.Fail(StatusCodes.Status413PayloadTooLarge, "RequestEntityTooLarge",
                $"The request body is larger than the limit of {MaxBodyBytes} bytes.")))
            : (body, null);
    }

    /// <summary>The next page's absolute URL: this request's URL with <c>$skiptoken</c>.</summary>
    public static string? NextLink(HttpContext context, string? continuationToken)
    {
        if (continuationToken is null)
            return null;
        var query = context.Request.Query.Where(q => q.Key != "$skiptoken")
            .Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value.ToString())}")
            .Append($"$skiptoken={Uri.EscapeDataString(continuationToken)}");
        return Absolute(context, $"{context.Request.Path}?{string.Join("&", query)}");
    }
}
