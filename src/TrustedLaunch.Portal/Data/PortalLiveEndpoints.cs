using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace TrustedLaunch.Portal.Data;

/// <summary>
/// Server-sent event streams for the pages' live updates, under <c>/portal</c> so the sign-in cookie authenticates
/// them (a browser's <c>EventSource</c> cannot send a bearer header): <c>/portal/live/alerts</c> relays the API's
/// <c>…/alerts:watch</c> opened as the signed-in principal; <c>/portal/live/vms</c> announces that a VM row the user
/// sees changed (power state, attestation verdict or time), read in process as the list is.
/// </summary>
public static class PortalLiveEndpoints
{
    public const string AlertsPath = PortalRegistration.BasePath + "/live/alerts";
    public const string VmsPath = PortalRegistration.BasePath + "/live/vms";

    /// <summary>How long one stream lives: the browser then reopens it, so the credential is checked again.</summary>
    internal static readonly TimeSpan StreamLifetime = TimeSpan.FromMinutes(5);

    internal static readonly TimeSpan VmPollInterval = TimeSpan.FromSeconds(2);

    public static void Map(WebApplication app)
    {
        app.MapGet(AlertsPath, RelayAlertsAsync);
        app.MapGet(VmsPath, WatchVmsAsync);
    }

    private static async Task RelayAlertsAsync(HttpContext context, PortalArmClient arm, VmTable table)
    {
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        lifetime.CancelAfter(StreamLifetime);
        CancellationToken cancellationToken = lifetime.Token;
        string subscriptionId = await table.SubscriptionIdAsync(cancellationToken);
        string? lastEventId = context.Request.Headers["Last-Event-ID"].FirstOrDefault();
        try
        {
            using HttpResponseMessage upstream = await arm.OpenStreamAsync(
                $"/subscriptions/{Uri.EscapeDataString(subscriptionId)}/providers/Microsoft.Security/alerts:watch", PortalArmClient.SecurityAlertsApi, lastEventId, cancellationToken);
            if (upstream.StatusCode != HttpStatusCode.OK)
            {
                // The API's refusal as it worded it (an EventSource gives up on a status other than 200).
                context.Response.StatusCode = (int)upstream.StatusCode;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(await upstream.Content.ReadAsStringAsync(cancellationToken), cancellationToken);
                return;
            }

            StartStream(context.Response);
            await using Stream events = await upstream.Content.ReadAsStreamAsync(cancellationToken);
            byte[] buffer = new byte[8192];
            int read;
            while ((read = await events.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await context.Response.Body.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // the browser left, or the stream's lifetime ended: the browser reopens it
        }
    }

    private static async Task WatchVmsAsync(HttpContext context, VmTable table)
    {
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        lifetime.CancelAfter(StreamLifetime);
        CancellationToken cancellationToken = lifetime.Token;
        PortalUser user = PortalUser.From(context.User);
        StartStream(context.Response);
        await context.Response.WriteAsync(": watching the virtual machines\n\n", cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
        try
        {
            Dictionary<string, string> seen = Fingerprints(await table.RowsAsync(user, cancellationToken));
            using var timer = new PeriodicTimer(VmPollInterval);
            long sequence = 0;
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                Dictionary<string, string> now = Fingerprints(await table.RowsAsync(user, cancellationToken));
                int changed = now.Count(row => !seen.TryGetValue(row.Key, out string? before) || before != row.Value) + seen.Keys.Count(key => !now.ContainsKey(key));
                seen = now;
                string message = changed > 0
                    ? string.Create(CultureInfo.InvariantCulture, $"id: {++sequence}\nevent: vms\ndata: {{\"changed\":{changed}}}\n\n")
                    : ": no change\n\n"; // a comment keeps proxies from closing an idle stream
                await context.Response.WriteAsync(message, cancellationToken);
                await context.Response.Body.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // the browser left, or the stream's lifetime ended: the browser reopens it
        }
    }

    // What a row shows that changes by itself: power state, provisioning, host, attestation verdict and time.
    internal static Dictionary<string, string> Fingerprints(IReadOnlyList<VmRow> rows) =>
        rows.ToDictionary(r => r.ResourceGroup + "/" + r.Name,
            r => string.Create(CultureInfo.InvariantCulture, $"{r.Power}|{r.Provisioning}|{r.Host}|{r.Attestation?.Verdict}|{r.Attestation?.At:O}"),
            StringComparer.OrdinalIgnoreCase);

    private static void StartStream(HttpResponse response)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }
}
