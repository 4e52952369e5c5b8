using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane.Arm;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>Maps the control plane: the ARM API under <c>/subscriptions</c> (through <see cref="ArmRequestFilter"/>) and the host contract.</summary>
internal static class ControlPlaneEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        RouteGroupBuilder arm = app.MapGroup("/subscriptions").AddEndpointFilter<ArmRequestFilter>().WithTags("ARM");
        ResourceManagerEndpoints.Map(arm);
        VirtualMachineEndpoints.Map(arm);
        SecureBootKeyUpdateEndpoints.Map(arm);
        VirtualMachineScaleSetEndpoints.Map(arm);
        VirtualMachineDiagnosticsEndpoints.Map(arm);
        ComputeCatalogEndpoints.Map(arm);
        DeploymentEndpoints.Map(arm);
        NetworkEndpoints.Map(arm);
        SnapshotEndpoints.Map(arm);
        DiskEndpoints.Map(arm);
        // Anything else under /subscriptions: ARM's envelope rather than the attestation API's problem document.
        arm.Map("/{**rest}", (HttpContext context) => ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status404NotFound, "NotFound",
            $"No resource or action at {context.Request.Method} {context.Request.Path} in this control plane (docs/control-plane.md lists the API).")))
            .ExcludeFromDescription();
        HostEndpoints.Map(app);
    }
}
