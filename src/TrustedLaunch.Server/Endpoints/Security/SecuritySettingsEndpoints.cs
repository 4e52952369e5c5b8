using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.Posture.Suppression;
using TrustedLaunch.Server.Endpoints.Arm;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Posture.Views;

namespace TrustedLaunch.Server.Endpoints.Security;

/// <summary>Plans (<c>pricings/VirtualMachines</c>), alert suppression rules and webhook subscriptions (with their delivery log).</summary>
internal static class SecuritySettingsEndpoints
{
    private const string Provider = "/{subscriptionId}/providers/Microsoft.Security";

    public static void Map(RouteGroupBuilder arm)
    {
        arm.MapGet(Provider + "/pricings", ListPricingsAsync).Security(SecurityKind.Pricings).WithName("Pricings_List").Produces<SecurityList<PricingResource>>();
        arm.MapGet(Provider + "/pricings/{pricingName}", GetPricingAsync).Security(SecurityKind.Pricings).WithName("Pricings_Get").Produces<PricingResource>();
        arm.MapPut(Provider + "/pricings/{pricingName}", PutPricingAsync).Security(SecurityKind.Pricings).WithName("Pricings_Update").Produces<PricingResource>();

        arm.MapGet(Provider + "/alertsSuppressionRules", ListRulesAsync).Security(SecurityKind.SuppressionRules).WithName("AlertsSuppressionRules_List")
            .Produces<SecurityList<SuppressionRuleResource>>();
        arm.MapGet(Provider + "/alertsSuppressionRules/{ruleName}", GetRuleAsync).Security(SecurityKind.SuppressionRules).WithName("AlertsSuppressionRules_Get")
            .Produces<SuppressionRuleResource>();
        arm.MapPut(Provider + "/alertsSuppressionRules/{ruleName}", PutRuleAsync).Security(SecurityKind.SuppressionRules)
            .WithName("AlertsSuppressionRules_Update").Produces<SuppressionRuleResource>();
        arm.MapDelete(Provider + "/alertsSuppressionRules/{ruleName}", DeleteRuleAsync).Security(SecurityKind.SuppressionRules)
            .WithName("AlertsSuppressionRules_Delete").Produces(StatusCodes.Status200OK).Produces(StatusCodes.Status204NoContent);

        arm.MapGet(Provider + "/webhookSubscriptions", ListWebhooksAsync).Security(SecurityKind.Webhooks).WithName("WebhookSubscriptions_List")
            .Produces<SecurityList<WebhookResource>>();
        arm.MapGet(Provider + "/webhookSubscriptions/{webhookName}", GetWebhookAsync).Security(SecurityKind.Webhooks).WithName("WebhookSubscriptions_Get")
            .Produces<WebhookResource>();
        arm.MapPut(Provider + "/webhookSubscriptions/{webhookName}", PutWebhookAsync).Security(SecurityKind.Webhooks).WithName("WebhookSubscriptions_CreateOrUpdate")
            .Produces<WebhookResource>().Produces<WebhookResource>(StatusCodes.Status201Created);
        arm.MapDelete(Provider + "/webhookSubscriptions/{webhookName}", DeleteWebhookAsync).Security(SecurityKind.Webhooks).WithName("WebhookSubscriptions_Delete")
            .Produces(StatusCodes.Status200OK).Produces(StatusCodes.Status204NoContent);
        arm.MapGet(Provider + "/webhookSubscriptions/{webhookName}/deliveries", DeliveriesAsync).Security(SecurityKind.Webhooks)
            .WithName("WebhookSubscriptions_Deliveries").Produces<DeliveryList>();
    }

    private static async Task<IResult> ListPricingsAsync(string subscriptionId, SqlSecurityStore store, CancellationToken cancellationToken)
    {
        (PricingTier tier, DateTimeOffset? at) = await store.GetTierAsync(subscriptionId, cancellationToken);
        return Results.Json(new SecurityList<PricingResource>([SecurityViewMapper.Pricing(subscriptionId, tier, at)]), PostureJson.Web.SecurityListPricingResource);
    }

    private static async Task<IResult> GetPricingAsync(string subscriptionId, string pricingName, SqlSecurityStore store, CancellationToken cancellationToken)
    {
        if (UnknownPlan(pricingName) is IResult bad)
            return bad;
        (PricingTier tier, DateTimeOffset? at) = await store.GetTierAsync(subscriptionId, cancellationToken);
        return Results.Json(SecurityViewMapper.Pricing(subscriptionId, tier, at), PostureJson.Web.PricingResource);
    }

    private static async Task<IResult> PutPricingAsync(string subscriptionId, string pricingName, HttpContext context, SqlSecurityStore store,
        PostureSignals signals, TimeProvider time, CancellationToken cancellationToken)
    {
        if (UnknownPlan(pricingName) is IResult bad)
            return bad;
        (byte[]? body, IResult? refusal) = await SecurityRoutes.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        ArmResult<PricingTier> tier = SecurityRequests.Pricing(body);
        if (tier.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        await store.SetTierAsync(subscriptionId, tier.Value, time.GetUtcNow(), cancellationToken);
        signals.Evaluate();
        (PricingTier stored, DateTimeOffset? at) = await store.GetTierAsync(subscriptionId, cancellationToken);
        return Results.Json(SecurityViewMapper.Pricing(subscriptionId, stored, at), PostureJson.Web.PricingResource);
    }

    private static async Task<IResult> ListRulesAsync(string subscriptionId, HttpContext context, SqlSecurityStore store, TimeProvider time,
        CancellationToken cancellationToken)
    {
        // Azure's filter is ?AlertType= (query names compare case-insensitively in ASP.NET Core).
        string? alertType = context.Request.Query["AlertType"].FirstOrDefault();
        DateTimeOffset now = time.GetUtcNow();
        SuppressionRuleResource[] rules = (await store.ListRulesAsync(subscriptionId, cancellationToken))
            .Where(r => alertType is null || string.Equals(r.AlertType, alertType, StringComparison.OrdinalIgnoreCase))
            .Select(r => SecurityViewMapper.Rule(r, now)).ToArray();
        return Results.Json(new SecurityList<SuppressionRuleResource>(rules), PostureJson.Web.SecurityListSuppressionRuleResource);
    }

    private static async Task<IResult> GetRuleAsync(string subscriptionId, string ruleName, SqlSecurityStore store, TimeProvider time,
        CancellationToken cancellationToken) =>
        await store.GetRuleAsync(subscriptionId, ruleName, cancellationToken) is SuppressionRule rule
            ? Results.Json(SecurityViewMapper.Rule(rule, time.GetUtcNow()), PostureJson.Web.SuppressionRuleResource)
            : ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status404NotFound, "ResourceNotFound", $"The suppression rule '{ruleName}' was not found."));

    private static async Task<IResult> PutRuleAsync(string subscriptionId, string ruleName, HttpContext context, SqlSecurityStore store, TimeProvider time,
        CancellationToken cancellationToken)
    {
        (byte[]? body, IResult? refusal) = await SecurityRoutes.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        DateTimeOffset now = time.GetUtcNow();
        ArmResult<SuppressionRule> rule = SecurityRequests.Rule(body, subscriptionId, ruleName, now);
        if (rule.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        await store.SaveRuleAsync(rule.Value!, cancellationToken);
        return Results.Json(SecurityViewMapper.Rule(rule.Value!, now), PostureJson.Web.SuppressionRuleResource);
    }

    private static async Task<IResult> DeleteRuleAsync(string subscriptionId, string ruleName, SqlSecurityStore store, CancellationToken cancellationToken) =>
        await store.DeleteRuleAsync(subscriptionId, ruleName, cancellationToken) ? Results.Ok() : Results.NoContent();

    private static async Task<IResult> ListWebhooksAsync(string subscriptionId, SqlSecurityStore store, CancellationToken cancellationToken) =>
        Results.Json(new SecurityList<WebhookResource>((await store.ListWebhooksAsync(subscriptionId, cancellationToken))
            .Select(w => SecurityViewMapper.Webhook(w)).ToArray()), PostureJson.Web.SecurityListWebhookResource);

    private static async Task<IResult> GetWebhookAsync(string subscriptionId, string webhookName, SqlSecurityStore store, CancellationToken cancellationToken) =>
        await store.GetWebhookAsync(subscriptionId, webhookName, cancellationToken) is (WebhookSubscription webhook, _)
            ? Results.Json(SecurityViewMapper.Webhook(webhook), PostureJson.Web.WebhookResource)
            : WebhookNotFound(webhookName);

    private static async Task<IResult> PutWebhookAsync(string subscriptionId, string webhookName, HttpContext context, SqlSecurityStore store,
        PostureOptions options, PostureSignals signals, TimeProvider time, CancellationToken cancellationToken)
    {
        (byte[]? body, IResult? refusal) = await SecurityRoutes.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        ArmResult<(WebhookSubscription Webhook, string? Secret)> parsed = SecurityRequests.Webhook(body, subscriptionId, webhookName, options.AllowHttpWebhooks,
            time.GetUtcNow());
        if (parsed.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        (WebhookSubscription webhook, string? sent) = parsed.Value;
        string secret = sent ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        bool created = await store.SaveWebhookAsync(webhook, secret, cancellationToken);
        signals.EventsAppended();
        return Results.Json(SecurityViewMapper.Webhook(webhook, sent is null ? secret : null), PostureJson.Web.WebhookResource,
            statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> DeleteWebhookAsync(string subscriptionId, string webhookName, SqlSecurityStore store, CancellationToken cancellationToken) =>
        await store.DeleteWebhookAsync(subscriptionId, webhookName, cancellationToken) ? Results.Ok() : Results.NoContent();

    private static async Task<IResult> DeliveriesAsync(string subscriptionId, string webhookName, int? limit, SqlSecurityStore store,
        CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 1000)
            return SecurityRoutes.Invalid("limit must be 1..1000.", "limit");
        if (await store.GetWebhookAsync(subscriptionId, webhookName, cancellationToken) is null)
            return WebhookNotFound(webhookName);
        IReadOnlyList<DeliveryRecord> deliveries = await store.DeliveriesAsync(subscriptionId, webhookName, limit ?? 100, cancellationToken);
        return Results.Json(new DeliveryList(webhookName, deliveries.Select(d => new DeliveryView(d.Id, d.EventId, d.Attempt, d.At, d.StatusCode, d.Outcome, d.Error))
            .ToArray()), PostureJson.Web.DeliveryList);
    }

    private static IResult? UnknownPlan(string name) => string.Equals(name, "VirtualMachines", StringComparison.OrdinalIgnoreCase)
        ? null
        : SecurityRoutes.Invalid($"The plan '{name}' is not offered: VirtualMachines is the one plan of this platform.", "pricingName");

    private static IResult WebhookNotFound(string name) =>
        ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status404NotFound, "ResourceNotFound", $"The webhook subscription '{name}' was not found."));
}
