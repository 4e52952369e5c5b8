using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.Server.Endpoints.Arm;

namespace TrustedLaunch.Server.Endpoints.Security;

/// <summary>The Microsoft.Security resource types served, each with its api-version line (azure-rest-api-specs).</summary>
internal enum SecurityKind
{
    Assessments,
    Alerts,
    SuppressionRules,
    Pricings,
    SecureScores,
    Webhooks,
}

internal sealed record SecurityKindMetadata(SecurityKind Kind);

/// <summary>Requires one of the kind's api-versions (ARM's 400s otherwise) on every Microsoft.Security request.</summary>
internal sealed class SecurityApiVersionFilter : IEndpointFilter
{
    public static IReadOnlyList<string> Versions(SecurityKind kind) => kind switch
    {
        SecurityKind.Assessments => ["2021-06-01", "2020-01-01", "2019-01-01-preview"],
        SecurityKind.Alerts => ["2022-01-01", "2021-01-01", "2020-01-01", "2019-01-01"],
        SecurityKind.SuppressionRules => ["2019-01-01-preview"],
        SecurityKind.Pricings => ["2024-01-01", "2023-01-01", "2022-03-01", "2018-06-01"],
        SecurityKind.SecureScores => ["2020-01-01", "2020-01-01-preview"],
        _ => ["2024-01-01"],
    };

    public static string TypeName(SecurityKind kind) => kind switch
    {
        SecurityKind.Assessments => "assessments",
        SecurityKind.Alerts => "locations/alerts",
        SecurityKind.SuppressionRules => "alertsSuppressionRules",
        SecurityKind.Pricings => "pricings",
        SecurityKind.SecureScores => "secureScores",
        _ => "webhookSubscriptions",
    };

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<SecurityKindMetadata>() is SecurityKindMetadata metadata)
        {
            string? apiVersion = context.HttpContext.Request.Query[ArmHttp.ApiVersionParameter].FirstOrDefault();
            if (string.IsNullOrEmpty(apiVersion))
                return ArmHttp.Error(ArmErrors.MissingApiVersion());
            IReadOnlyList<string> supported = Versions(metadata.Kind);
            if (!supported.Contains(apiVersion, StringComparer.OrdinalIgnoreCase))
                return ArmHttp.Error(ArmErrors.NoRegisteredProviderFound("global", apiVersion, TypeName(metadata.Kind), supported, ["global"]));
        }

        return await next(context);
    }
}

internal static class SecurityRoutes
{
    public static RouteHandlerBuilder Security(this RouteHandlerBuilder builder, SecurityKind kind) =>
        builder.WithMetadata(new SecurityKindMetadata(kind)).AddEndpointFilter<SecurityApiVersionFilter>().ProducesArmErrors().WithTags("Microsoft.Security");

    /// <summary>ARM's 400 with the offending parameter as target.</summary>
    public static IResult Invalid(string message, string target) => ArmHttp.Error(ArmErrors.InvalidParameter(message, target));

    public static async Task<(byte[]? Body, IResult? Refusal)> ReadBodyAsync(HttpContext context, CancellationToken cancellationToken)
    {
        const int limit = 64 * 1024;
        byte[]? body = await RequestBody.ReadAsync(context, limit, cancellationToken);
        return body is null
            ? (null, ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status413PayloadTooLarge, "RequestEntityTooLarge",
                $"The request body is larger than the limit of {limit} bytes for Microsoft.Security resources.")))
            : (body, null);
    }
}
