using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.Server.Security;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// Microsoft.Resources: <c>/subscriptions</c>, <c>/subscriptions/{s}</c>, <c>/subscriptions/{s}/resourcegroups[/{rg}]</c>
/// and the resource-group deletion monitor <c>/subscriptions/{s}/operationresults/{id}</c>. Path segments match
/// case-insensitively (<c>resourceGroups</c> and <c>resourcegroups</c>), as ARM's do.
/// </summary>
internal static class ResourceManagerEndpoints
{
    private const string Group = "/{subscriptionId}/resourcegroups/{resourceGroupName}";

    public static void Map(RouteGroupBuilder arm)
    {
        arm.MapGet("", ListSubscriptionsAsync).Kind(ArmResourceKind.Subscription).WithName("Subscriptions_List")
            .Produces<ArmList<SubscriptionResource>>();
        arm.MapGet("/{subscriptionId}", GetSubscriptionAsync).Kind(ArmResourceKind.Subscription).WithName("Subscriptions_Get")
            .Produces<SubscriptionResource>();
        arm.MapGet("/{subscriptionId}/resourcegroups", ListGroupsAsync).Kind(ArmResourceKind.ResourceGroup).WithName("ResourceGroups_List")
            .Produces<ArmList<ResourceGroupResource>>();
        arm.MapPut(Group, PutGroupAsync).Kind(ArmResourceKind.ResourceGroup).WithName("ResourceGroups_CreateOrUpdate")
            .Accepts<ResourceGroupResource>("application/json").Produces<ResourceGroupResource>().Produces<ResourceGroupResource>(StatusCodes.Status201Created);
        arm.MapGet(Group, GetGroupAsync).Kind(ArmResourceKind.ResourceGroup).WithName("ResourceGroups_Get").Produces<ResourceGroupResource>();
        arm.MapMethods(Group, ["HEAD"], CheckGroupAsync).Kind(ArmResourceKind.ResourceGroup).WithName("ResourceGroups_CheckExistence");
        arm.MapDelete(Group, DeleteGroupAsync).Kind(ArmResourceKind.ResourceGroup).WithName("ResourceGroups_Delete").Produces(StatusCodes.Status202Accepted);
        arm.MapGet("/{subscriptionId}/operationresults/{operationId}", GetGroupOperationAsync).Kind(ArmResourceKind.ResourceGroup)
            .WithName("ResourceGroups_DeleteOperationResult").Produces(StatusCodes.Status202Accepted).Produces(StatusCodes.Status200OK);
    }

    // Only the subscriptions the caller has a role in (all of them without authentication), as ARM lists them.
    private static async Task<IResult> ListSubscriptionsAsync(HttpContext context, SubscriptionService subscriptions, CancellationToken cancellationToken)
    {
        ArmList<SubscriptionResource> all = await subscriptions.ListAsync(cancellationToken);
        ArmList<SubscriptionResource> visible = all with { Value = all.Value.Where(s => ServiceCaller.MaySee(context, ServiceScope.Subscription(s.SubscriptionId))).ToArray() };
        return ArmHttp.Json(context, visible, ControlPlaneJson.Web.ArmListSubscriptionResource);
    }

    private static async Task<IResult> GetSubscriptionAsync(string subscriptionId, HttpContext context, SubscriptionService subscriptions,
        CancellationToken cancellationToken)
    {
        ArmResult<SubscriptionResource> found = await subscriptions.GetAsync(subscriptionId, cancellationToken);
        return found.Failure is ArmFailure failure ? ArmHttp.Error(failure) : ArmHttp.Json(context, found.Value!, ControlPlaneJson.Web.SubscriptionResource);
    }

    private static async Task<IResult> ListGroupsAsync(string subscriptionId, HttpContext context, ResourceGroupService groups, CancellationToken cancellationToken)
    {
        IReadOnlyList<ResourceGroupRecord> all = await groups.ListAsync(subscriptionId, cancellationToken);
        return ArmHttp.Json(context, new ArmList<ResourceGroupResource> { Value = all.Select(ResourceGroupService.View).ToArray() },
            ControlPlaneJson.Web.ArmListResourceGroupResource);
    }

    private static async Task<IResult> PutGroupAsync(string subscriptionId, string resourceGroupName, HttpContext context, ResourceGroupService groups,
        CancellationToken cancellationToken)
    {
        (byte[]? body, IResult? refusal) = await ArmHttp.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        ArmResult<ResourceGroupWriteResult> written = await groups.PutAsync(subscriptionId, resourceGroupName, body,
            context.Request.Headers.IfMatch, context.Request.Headers.IfNoneMatch, cancellationToken);
        if (written.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        ResourceGroupRecord group = written.Value!.Group;
        return ArmHttp.Json(context, ResourceGroupService.View(group), ControlPlaneJson.Web.ResourceGroupResource,
            written.Value.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK, group.Version);
    }

    private static async Task<IResult> GetGroupAsync(string subscriptionId, string resourceGroupName, HttpContext context, ResourceGroupService groups,
        CancellationToken cancellationToken)
    {
        ArmResult<ResourceGroupRecord> found = await groups.GetAsync(subscriptionId, resourceGroupName, cancellationToken);
        return found.Failure is ArmFailure failure
            ? ArmHttp.Error(failure)
            : ArmHttp.Json(context, ResourceGroupService.View(found.Value!), ControlPlaneJson.Web.ResourceGroupResource, version: found.Value!.Version);
    }

    private static async Task<IResult> CheckGroupAsync(string subscriptionId, string resourceGroupName, ResourceGroupService groups,
        CancellationToken cancellationToken) =>
        (await groups.GetAsync(subscriptionId, resourceGroupName, cancellationToken)).Succeeded ? Results.NoContent() : Results.NotFound();

    private static async Task<IResult> DeleteGroupAsync(string subscriptionId, string resourceGroupName, HttpContext context, ResourceGroupService groups,
        ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        ArmResult<OperationRecord> deleting = await groups.DeleteAsync(subscriptionId, resourceGroupName, context.Request.Headers.IfMatch, cancellationToken);
        if (deleting.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        ArmHttp.OperationHeaders(context, deleting.Value!, accepted: true, options.RetryAfterSeconds);
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> GetGroupOperationAsync(string subscriptionId, string operationId, HttpContext context, OperationService operations,
        ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        ArmResult<OperationRecord> found = await operations.GetAsync(subscriptionId, operationId, cancellationToken);
        if (found.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        if (found.Value!.Status != OperationStatus.InProgress)
            return Results.Ok();
        ArmHttp.OperationHeaders(context, found.Value, accepted: true, options.RetryAfterSeconds);
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }
}
