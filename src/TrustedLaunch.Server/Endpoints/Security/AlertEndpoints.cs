using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Server.Endpoints.Arm;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Posture.Views;

namespace TrustedLaunch.Server.Endpoints.Security;

/// <summary>
/// Microsoft.Security/locations/alerts (2022-01-01): lists per subscription, resource group and location, GET, the
/// status actions (<c>POST …/{name}/activate|inProgress|resolve|dismiss</c> → 204), and the live stream
/// <c>GET …/alerts:watch</c> (server-sent events of the event stream, resumable with <c>Last-Event-ID</c>).
/// </summary>
internal static class AlertEndpoints
{
    private const string Alerts = "/{subscriptionId}/providers/Microsoft.Security/locations/{ascLocation}/alerts";

    public static void Map(RouteGroupBuilder arm)
    {
        arm.MapGet("/{subscriptionId}/providers/Microsoft.Security/alerts", ListAsync).Security(SecurityKind.Alerts).WithName("Alerts_List")
            .Produces<SecurityList<AlertResource>>();
        arm.MapGet("/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Security/alerts", ListInGroupAsync)
            .Security(SecurityKind.Alerts).WithName("Alerts_ListByResourceGroup").Produces<SecurityList<AlertResource>>();
        arm.MapGet(Alerts, ListInLocationAsync).Security(SecurityKind.Alerts).WithName("Alerts_ListSubscriptionLevelByRegion")
            .Produces<SecurityList<AlertResource>>();
        arm.MapGet(Alerts + "/{alertName}", GetAsync).Security(SecurityKind.Alerts).WithName("Alerts_GetSubscriptionLevel").Produces<AlertResource>();
        arm.MapPost(Alerts + "/{alertName}/{action}", ActAsync).Security(SecurityKind.Alerts).WithName("Alerts_UpdateSubscriptionLevelStateTo")
            .Produces(StatusCodes.Status204NoContent);
        arm.MapGet("/{subscriptionId}/providers/Microsoft.Security/alerts:watch", WatchAsync).Security(SecurityKind.Alerts).WithName("Alerts_Watch")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
    }

    private static async Task<IResult> ListAsync(string subscriptionId, string? status, string? severity, SqlPostureStore store, CancellationToken cancellationToken) =>
        Filter(await store.ListAlertsAsync(subscriptionId, null, cancellationToken), status, severity, null);

    private static async Task<IResult> ListInGroupAsync(string subscriptionId, string resourceGroupName, string? status, string? severity,
        ResourceGroupService groups, SqlPostureStore store, CancellationToken cancellationToken)
    {
        ArmResult<ResourceGroupRecord> group = await groups.GetAsync(subscriptionId, resourceGroupName, cancellationToken);
        if (group.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        return Filter(await store.ListAlertsAsync(subscriptionId, resourceGroupName, cancellationToken), status, severity, null);
    }

    private static async Task<IResult> ListInLocationAsync(string subscriptionId, string ascLocation, string? status, string? severity, SqlPostureStore store,
        CancellationToken cancellationToken) =>
        Filter(await store.ListAlertsAsync(subscriptionId, null, cancellationToken), status, severity, ascLocation);

    private static async Task<IResult> GetAsync(string subscriptionId, string ascLocation, string alertName, SqlPostureStore store,
        CancellationToken cancellationToken)
    {
        SecurityAlert? alert = await store.GetAlertAsync(subscriptionId, alertName, cancellationToken);
        return alert is null || !string.Equals(alert.Location, ResourceIdsLocation(ascLocation), StringComparison.OrdinalIgnoreCase)
            ? NotFound(alertName)
            : Results.Json(SecurityViewMapper.Alert(alert), PostureJson.Web.AlertResource);
    }

    private static async Task<IResult> ActAsync(string subscriptionId, string ascLocation, string alertName, string action, SqlPostureStore store,
        SqlSecurityStore security, PostureSignals signals, TimeProvider time, CancellationToken cancellationToken)
    {
        if (SecurityRequests.StatusOfAction(action) is not AlertStatus status)
            return SecurityRoutes.Invalid($"The action '{action}' is not valid: activate, inProgress, resolve or dismiss.", "action");
        // The alert may change between the read and the write (the engine counts an occurrence, another action): then read again.
        for (int attempt = 0; attempt < 5; attempt++)
        {
            SecurityAlert? alert = await store.GetAlertAsync(subscriptionId, alertName, cancellationToken);
            if (alert is null || !string.Equals(alert.Location, ResourceIdsLocation(ascLocation), StringComparison.OrdinalIgnoreCase))
                return NotFound(alertName);
            if (alert.Status == status)
                return Results.NoContent();
            if (status is AlertStatus.Active or AlertStatus.InProgress && !alert.IsOpen
                && (await store.OpenAlertsAsync(alert.VmId, cancellationToken)).Any(a => a.DedupKey == alert.DedupKey))
            {
                return ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status409Conflict, "AlertAlreadyOpen",
                    $"Another alert of this VM, type and reason is open; one open alert per VM, type and reason.", "action"));
            }

            DateTimeOffset now = time.GetUtcNow();
            SecurityAlert updated = AlertLedger.WithStatus(alert, status, now);
            if (await security.SaveAlertAsync(alert, updated, SecurityEvents.ForAlert(updated, SecurityEvents.AlertUpdated, now, Guid.NewGuid()), cancellationToken))
            {
                signals.EventsAppended();
                return Results.NoContent();
            }
        }

        return ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status409Conflict, "AlertChanged",
            $"The alert '{alertName}' kept changing while its status was set; try again.", "action"));
    }

    private static async Task WatchAsync(string subscriptionId, HttpContext context, SqlSecurityStore security, PostureSignals signals,
        CancellationToken cancellationToken)
    {
        long after;
        string? lastEventId = context.Request.Headers["Last-Event-ID"].FirstOrDefault() ?? context.Request.Query["lastEventId"].FirstOrDefault();
        if (lastEventId is not null && long.TryParse(lastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out long resumed))
            after = resumed;
        else
            after = await security.LastEventSeqAsync(cancellationToken);
        HttpResponse response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.WriteAsync(": watching Microsoft.Security events\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
        DateTimeOffset lastWrite = DateTimeOffset.UtcNow;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Task wake = signals.NextEventsAsync();
                foreach (SecurityEventRecord e in await security.EventsAfterAsync(subscriptionId, after, 200, cancellationToken))
                {
                    // One event per message; data is the CloudEvent on one line (its JSON has no raw newlines).
                    await response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"id: {e.Seq}\nevent: {e.Type}\ndata: {e.EventJson}\n\n"), cancellationToken);
                    after = e.Seq;
                    lastWrite = DateTimeOffset.UtcNow;
                }

                if (DateTimeOffset.UtcNow - lastWrite > TimeSpan.FromSeconds(15))
                {
                    await response.WriteAsync(": keep-alive\n\n", cancellationToken);
                    lastWrite = DateTimeOffset.UtcNow;
                }

                await response.Body.FlushAsync(cancellationToken);
                await Task.WhenAny(wake, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The watcher went away.
        }
    }

    private static IResult Filter(IReadOnlyList<SecurityAlert> alerts, string? status, string? severity, string? location)
    {
        AlertStatus? wantedStatus = null;
        Severity? wantedSeverity = null;
        if (status is not null)
        {
            if (!Enum.TryParse(status, ignoreCase: true, out AlertStatus parsed) || int.TryParse(status, out _))
                return SecurityRoutes.Invalid($"The status '{status}' is not valid: Active, InProgress, Resolved or Dismissed.", "status");
            wantedStatus = parsed;
        }

        if (severity is not null)
        {
            if (!Enum.TryParse(severity, ignoreCase: true, out Severity parsed) || int.TryParse(severity, out _))
                return SecurityRoutes.Invalid($"The severity '{severity}' is not valid: Informational, Low, Medium or High.", "severity");
            wantedSeverity = parsed;
        }

        AlertResource[] value = alerts.Where(a => (wantedStatus is null || a.Status == wantedStatus) && (wantedSeverity is null || a.Severity == wantedSeverity)
                && (location is null || string.Equals(a.Location, ResourceIdsLocation(location), StringComparison.OrdinalIgnoreCase)))
            .Select(SecurityViewMapper.Alert).ToArray();
        return Results.Json(new SecurityList<AlertResource>(value), PostureJson.Web.SecurityListAlertResource);
    }

    private static string ResourceIdsLocation(string location) => TrustedLaunch.ControlPlane.Arm.ResourceIds.NormalizeLocation(location);

    private static IResult NotFound(string name) => ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status404NotFound, "AlertNotFound", $"The alert '{name}' was not found."));
}
