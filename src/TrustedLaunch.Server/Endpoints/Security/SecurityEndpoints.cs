using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.Server.Endpoints.Arm;

namespace TrustedLaunch.Server.Endpoints.Security;

/// <summary>Maps Microsoft.Security (docs/posture.md) under <c>/subscriptions</c>, through the ARM request filter (correlation headers, subscription).</summary>
internal static class SecurityEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        RouteGroupBuilder arm = app.MapGroup("/subscriptions").AddEndpointFilter<ArmRequestFilter>().WithTags("Microsoft.Security");
        AssessmentEndpoints.Map(arm);
        AlertEndpoints.Map(arm);
        SecuritySettingsEndpoints.Map(arm);
    }
}
