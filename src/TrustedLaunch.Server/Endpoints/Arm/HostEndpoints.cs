using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Disks;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// The host contract (<see cref="HostAssignments"/>), for <c>tl host</c>: <c>PUT /v1/hosts/{name}</c> registers,
/// <c>GET /v1/hosts/{name}/assignments?token=&amp;timeoutSeconds=</c> long-polls the desired state,
/// <c>POST /v1/hosts/{name}/reports</c> reports what the host observed, <c>PUT /v1/hosts/{name}/libvirtDomains/{uuid}</c> registers a
/// libvirt domain the host attests (<see cref="LibvirtDomainService"/>), <c>PUT /v1/hosts/{name}/restoredDisks/{diskId}</c> lands a backup
/// the host restored as a disk (<see cref="RestoredDiskService"/>); <c>GET /v1/hosts</c> lists hosts. Not ARM
/// resources (no api-version), but errors use ARM's envelope like the rest of the control plane.
/// </summary>
internal static class HostEndpoints
{
    private const int MaxBodyBytes = 1024 * 1024;

    public static void Map(IEndpointRouteBuilder app)
    {
        RouteGroupBuilder hosts = app.MapGroup("/v1/hosts").WithTags("Hosts");
        hosts.MapGet("", ListAsync).WithName("Hosts_List").Produces<IReadOnlyList<HostView>>();
        // A caller could pose as a host: only local ones until hosts authenticate (phase 2 brings remote agents with credentials).
        hosts.MapPut("/{hostName}", RegisterAsync).WithName("Hosts_Register").Accepts<HostRegistration>("application/json")
            .Produces<HostView>().ProducesArmErrors().AddEndpointFilter<ArmLoopbackOnlyFilter>();
        hosts.MapGet("/{hostName}/assignments", AssignmentsAsync).WithName("Hosts_Assignments").Produces<HostAssignments>().ProducesArmErrors()
            .AddEndpointFilter<ArmLoopbackOnlyFilter>();
        hosts.MapPost("/{hostName}/reports", ReportAsync).WithName("Hosts_Report").Accepts<HostReport>("application/json")
            .Produces<HostReportResult>().ProducesArmErrors().AddEndpointFilter<ArmLoopbackOnlyFilter>();
        hosts.MapPut("/{hostName}/libvirtDomains/{domainUuid}", RegisterDomainAsync).WithName("Hosts_RegisterLibvirtDomain")
            .Accepts<LibvirtDomainRegistration>("application/json").Produces<LibvirtDomainRegistered>().ProducesArmErrors()
            .AddEndpointFilter<ArmLoopbackOnlyFilter>();
        hosts.MapPut("/{hostName}/restoredDisks/{diskId}", RegisterRestoredDiskAsync).WithName("Hosts_RegisterRestoredDisk")
            .Accepts<RestoredDiskRegistration>("application/json").Produces<DiskResource>().ProducesArmErrors()
            .AddEndpointFilter<ArmLoopbackOnlyFilter>();
    }

    private static async Task<IResult> RegisterRestoredDiskAsync(string hostName, string diskId, HttpContext context, RestoredDiskService restored,
        CancellationToken cancellationToken)
    {
        byte[]? body = await RequestBody.ReadAsync(context, MaxBodyBytes, cancellationToken);
        if (body is null)
            return TooLarge();
        ArmResult<RestoredDiskRegistration> registration = ControlPlaneJson.Read(body, ControlPlaneJson.Web.RestoredDiskRegistration);
        if (registration.Failure is ArmFailure malformed)
            return ArmHttp.Error(malformed);
        ArmResult<DiskRecord> registered = await restored.RegisterAsync(hostName, diskId, registration.Value!, cancellationToken);
        return registered.Failure is ArmFailure failure
            ? ArmHttp.Error(failure)
            : Results.Json(DiskViews.Resource(registered.Value!), ControlPlaneJson.Web.DiskResource);
    }

    private static async Task<IResult> RegisterDomainAsync(string hostName, string domainUuid, HttpContext context, LibvirtDomainService domains,
        CancellationToken cancellationToken)
    {
        byte[]? body = await RequestBody.ReadAsync(context, MaxBodyBytes, cancellationToken);
        if (body is null)
            return TooLarge();
        ArmResult<LibvirtDomainRegistration> registration = ControlPlaneJson.Read(body, ControlPlaneJson.Web.LibvirtDomainRegistration);
        if (registration.Failure is ArmFailure malformed)
            return ArmHttp.Error(malformed);
        ArmResult<LibvirtDomainRegistered> registered = await domains.RegisterAsync(hostName, domainUuid, registration.Value!, cancellationToken);
        return registered.Failure is ArmFailure failure ? ArmHttp.Error(failure) : Results.Json(registered.Value!, ControlPlaneJson.Web.LibvirtDomainRegistered);
    }

    private static async Task<IResult> ListAsync(HostCoordinator coordinator, CancellationToken cancellationToken) =>
        Results.Json(await coordinator.ListAsync(cancellationToken), ControlPlaneJson.Web.IReadOnlyListHostView);

    private static async Task<IResult> RegisterAsync(string hostName, HttpContext context, HostCoordinator coordinator, CancellationToken cancellationToken)
    {
        byte[]? body = await RequestBody.ReadAsync(context, MaxBodyBytes, cancellationToken);
        if (body is null)
            return TooLarge();
        ArmResult<HostRegistration> registration = ControlPlaneJson.Read(body, ControlPlaneJson.Web.HostRegistration);
        if (registration.Failure is ArmFailure malformed)
            return ArmHttp.Error(malformed);
        ArmResult<HostView> registered = await coordinator.RegisterAsync(hostName, registration.Value!, cancellationToken);
        return registered.Failure is ArmFailure failure ? ArmHttp.Error(failure) : Results.Json(registered.Value!, ControlPlaneJson.Web.HostView);
    }

    // A waiting poll answers the current state as soon as the service stops: graceful shutdown waits for requests in flight.
    private static async Task<IResult> AssignmentsAsync(string hostName, string? token, int? timeoutSeconds, HostCoordinator coordinator,
        IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        TimeSpan timeout = TimeSpan.FromSeconds(Math.Clamp(timeoutSeconds ?? 0, 0, 3600));
        ArmResult<HostAssignments> assignments = await coordinator.GetAssignmentsAsync(hostName, token, timeout, lifetime.ApplicationStopping, cancellationToken);
        return assignments.Failure is ArmFailure failure ? ArmHttp.Error(failure) : Results.Json(assignments.Value!, ControlPlaneJson.Web.HostAssignments);
    }

    private static async Task<IResult> ReportAsync(string hostName, HttpContext context, HostCoordinator coordinator, CancellationToken cancellationToken)
    {
        byte[]? body = await RequestBody.ReadAsync(context, MaxBodyBytes, cancellationToken);
        if (body is null)
            return TooLarge();
        ArmResult<HostReport> report = ControlPlaneJson.Read(body, ControlPlaneJson.Web.HostReport);
        if (report.Failure is ArmFailure malformed)
            return ArmHttp.Error(malformed);
        ArmResult<HostReportResult> applied = await coordinator.ReportAsync(hostName, report.Value!, cancellationToken);
        return applied.Failure is ArmFailure failure ? ArmHttp.Error(failure) : Results.Json(applied.Value!, ControlPlaneJson.Web.HostReportResult);
    }

    private static IResult TooLarge() => ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status413PayloadTooLarge, "RequestEntityTooLarge",
        $"The request body is larger than the limit of {MaxBodyBytes} bytes."));
}
