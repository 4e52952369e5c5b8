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
/// What a VM's host tells about it beyond its state: the serial console (Azure's <c>retrieveBootDiagnosticsData</c>, whose
/// <c>serialConsoleLogBlobUri</c> points back here), the vTPM identity (<c>shieldedInstanceIdentity</c>, ours, GCP's shape)
/// and an attestation on request (<c>attest</c>, ours: the host attests the VM now).
/// </summary>
internal static class VirtualMachineDiagnosticsEndpoints
{
    private const string Vm = "/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{vmName}";

    public static void Map(RouteGroupBuilder arm)
    {
        arm.MapPost(Vm + "/retrieveBootDiagnosticsData", RetrieveBootDiagnosticsAsync).Kind(ArmResourceKind.VirtualMachine)
            .WithName("VirtualMachines_RetrieveBootDiagnosticsData").Produces<RetrieveBootDiagnosticsDataResult>();
        arm.MapGet(Vm + "/serialConsoleLog", SerialConsoleLogAsync).Kind(ArmResourceKind.VirtualMachine)
            .WithName("VirtualMachines_SerialConsoleLog").Produces<string>(contentType: "text/plain");
        arm.MapGet(Vm + "/shieldedInstanceIdentity", IdentityAsync).Kind(ArmResourceKind.VirtualMachine)
            .WithName("VirtualMachines_ShieldedInstanceIdentity").Produces<ShieldedInstanceIdentity>()
            .Produces<ArmErrorResponse>(StatusCodes.Status409Conflict);
        arm.MapPost(Vm + "/attest", AttestAsync).Kind(ArmResourceKind.VirtualMachine)
            .WithName("VirtualMachines_Attest").Produces<AttestationRequestResult>(StatusCodes.Status202Accepted)
            .Produces<ArmErrorResponse>(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> RetrieveBootDiagnosticsAsync(string subscriptionId, string resourceGroupName, string vmName, HttpContext context,
        VirtualMachineService vms, CancellationToken cancellationToken)
    {
        ArmResult<VirtualMachineRecord> found = await vms.GetAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName), cancellationToken);
        if (found.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        string log = $"{found.Value!.ResourceId}/serialConsoleLog?api-version={Uri.EscapeDataString(ArmHttp.ApiVersion(context))}";
        return ArmHttp.Json(context, new RetrieveBootDiagnosticsDataResult { SerialConsoleLogBlobUri = ArmHttp.Absolute(context, log) },
            ControlPlaneJson.Web.RetrieveBootDiagnosticsDataResult);
    }

    private static async Task<IResult> SerialConsoleLogAsync(string subscriptionId, string resourceGroupName, string vmName,
        VirtualMachineService vms, CancellationToken cancellationToken)
    {
        ArmResult<VirtualMachineRecord> found = await vms.GetAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName), cancellationToken);
        if (found.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        return Results.Text(found.Value!.LastReport?.ConsoleTail ?? "", "text/plain; charset=utf-8");
    }

    private static async Task<IResult> IdentityAsync(string subscriptionId, string resourceGroupName, string vmName, HttpContext context,
        VirtualMachineService vms, CancellationToken cancellationToken)
    {
        ArmResult<VirtualMachineRecord> found = await vms.GetAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName), cancellationToken);
        if (found.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        VirtualMachineRecord vm = found.Value!;
        if (!VirtualMachineLifecycle.HasVTpm(vm))
            return ArmHttp.Error(ArmErrors.OperationNotAllowed($"VM '{vm.Name}' has no vTPM, so it has no vTPM identity (Trusted Launch with vTpmEnabled has one)."));
        ShieldedInstanceIdentity? identity = VirtualMachineViews.Identity(vm);
        return identity is null
            ? ArmHttp.Error(ArmErrors.Fail(ArmErrors.Conflict, "VTpmIdentityNotAvailable",
                $"VM '{vm.Name}''s vTPM identity is not known yet: its host reports it once it has made the VM's guest state."))
            : ArmHttp.Json(context, identity, ControlPlaneJson.Web.ShieldedInstanceIdentity);
    }

    private static async Task<IResult> AttestAsync(string subscriptionId, string resourceGroupName, string vmName, HttpContext context,
        VirtualMachineLifecycle lifecycle, TimeProvider time, CancellationToken cancellationToken)
    {
        DateTimeOffset requestedAt = time.GetUtcNow();
        ArmResult<VirtualMachineRecord> requested = await lifecycle.RequestAttestationAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName),
            cancellationToken);
        if (requested.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        string result = ArmHttp.Absolute(context, $"/v1/vms/{requested.Value!.VmId:D}/attestations/latest");
        context.Response.Headers.Location = result;
        return ArmHttp.Json(context, new AttestationRequestResult { VmId = requested.Value.VmId.ToString(), RequestedAt = requestedAt, ResultUrl = result },
            ControlPlaneJson.Web.AttestationRequestResult, StatusCodes.Status202Accepted);
    }
}
