using System.Text.Json.Serialization.Metadata;
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

    private static Task<IResult> RegisterRestoredDiskAsync(string hostName, string diskId, HttpContext context, RestoredDiskService restored,
        CancellationToken cancellationToken) =>
        ExchangeAsync(context, ControlPlaneJson.Web.RestoredDiskRegistration, registration => restored.RegisterAsync(hostName, diskId, registration, cancellationToken),
            registered => Results.Json(DiskViews.Resource(registered), ControlPlaneJson.Web.DiskResource), cancellationToken);

    private static Task<IResult> RegisterDomainAsync(string hostName, string domainUuid, HttpContext context, LibvirtDomainService domains,
        CancellationToken cancellationToken) =>
        ExchangeAsync(context, ControlPlaneJson.Web.LibvirtDomainRegistration, registration => domains.RegisterAsync(hostName, domainUuid, registration, cancellationToken),
            registered => Results.Json(registered, ControlPlaneJson.Web.LibvirtDomainRegistered), cancellationToken);

    private static async Task<IResult> ListAsync(HostCoordinator coordinator, CancellationToken cancellationToken) =>
        Results.Json(await coordinator.ListAsync(cancellationToken), ControlPlaneJson.Web.IReadOnlyListHostView);

    private static Task<IResult> RegisterAsync(string hostName, HttpContext context, HostCoordinator coordinator, CancellationToken cancellationToken) =>
        ExchangeAsync(context, ControlPlaneJson.Web.HostRegistration, registration => coordinator.RegisterAsync(hostName, registration, cancellationToken),
            registered => Results.Json(registered, ControlPlaneJson.Web.HostView), cancellationToken);

    // A waiting poll answers the current state as soon as the service stops: graceful shutdown waits for requests in flight.
    private static async Task<IResult> AssignmentsAsync(string hostName, string? token, int? timeoutSeconds, HostCoordinator coordinator,
        IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        TimeSpan timeout = TimeSpan.FromSeconds(Math.Clamp(timeoutSeconds ?? 0, 0, 3600));
        ArmResult<HostAssignments> assignments = await coordinator.GetAssignmentsAsync(hostName, token, timeout, lifetime.ApplicationStopping, cancellationToken);
        return assignments.Failure is ArmFailure failure ? ArmHttp.Error(failure) : Results.Json(assignments.Value!, ControlPlaneJson.Web.HostAssignments);
    }

    private static Task<IResult> ReportAsync(string hostName, HttpContext context, HostCoordinator coordinator, CancellationToken cancellationToken) =>
        ExchangeAsync(context, ControlPlaneJson.Web.HostReport, report => coordinator.ReportAsync(hostName, report, cancellationToken),
            applied => Results.Json(applied, ControlPlaneJson.Web.HostReportResult), cancellationToken);

    /// <summary>Every write of the host contract: a JSON body within the limit, read as its type, handed on, and the answer or the refusal.</summary>
    private static async Task<IResult> ExchangeAsync<TRequest, TAnswer>(HttpContext context, JsonTypeInfo<TRequest> requestType,
        Func<TRequest, Task<ArmResult<TAnswer>>> handle, Func<TAnswer, IResult> answer, CancellationToken cancellationToken)
        where TRequest : class
    {
        byte[]? body = await RequestBody.ReadAsync(context, MaxBodyBytes, cancellationToken);
        if (body is null)
            return TooLarge();
        ArmResult<TRequest> request = ControlPlaneJson.Read(body, requestType);
        if (request.Failure is ArmFailure malformed)
            return ArmHttp.Error(malformed);
        ArmResult<TAnswer> handled = await handle(request.Value!);
        return handled.Failure is ArmFailure failure ? ArmHttp.Error(failure) : answer(handled.Value!);
    }

    private static IResult TooLarge() => ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status413PayloadTooLarge, "RequestEntityTooLarge",
        $"The request body is larger than the limit of {MaxBodyBytes} bytes."));
}
