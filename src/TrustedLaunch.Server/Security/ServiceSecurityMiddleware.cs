using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Endpoints;
using TrustedLaunch.Server.Endpoints.Arm;
using TrustedLaunch.Server.Security.Stores;

namespace TrustedLaunch.Server.Security;

/// <summary>
/// Who may do what, before any endpoint runs: authenticates the caller (<see cref="ServiceAuthenticationHandler"/>,
/// or an external JWT), decides with <see cref="RequiredAccess"/> as Azure RBAC does (a role at the scope or a
/// parent of it; 404 — never 403 — where the caller has no role at, above or below the scope, so it cannot learn
/// what exists outside its reach), and appends every write and every refusal to the audit log.
/// </summary>
internal sealed class ServiceSecurityMiddleware(RequestDelegate next, ServiceSecurityOptions security, IAuditLog audit,
    IVirtualMachineStore machines, TimeProvider time, ILogger<ServiceSecurityMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        string method = context.Request.Method;
        bool write = method is not ("GET" or "HEAD" or "OPTIONS");
        if (!security.RequireAuthentication)
        {
            await next(context);
            if (write)
                await AuditAsync(context, "anonymous (authentication off)", "Anonymous", context.Response.StatusCode, Outcome(context.Response.StatusCode));
            return;
        }

        RequiredAccess permission = RequiredAccess.Classify(method, context.Request.Path.Value ?? "/");
        if (permission.Kind == PermissionKind.Public)
        {
            await next(context);
            if (write)
                await AuditAsync(context, "anonymous", "Anonymous", context.Response.StatusCode, Outcome(context.Response.StatusCode));
            return;
        }

        AuthenticateResult authenticated = await context.AuthenticateAsync();
        if (!authenticated.Succeeded || authenticated.Principal is null)
        {
            bool presented = context.Request.Headers.Authorization.Count > 0 || authenticated.Failure is not null;
            ArmFailure failure = presented
                ? ArmErrors.Fail(StatusCodes.Status401Unauthorized, "InvalidAuthenticationToken", "The access token is invalid.")
                : ArmErrors.Fail(StatusCodes.Status401Unauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
            context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
            await RefuseAsync(context, "anonymous", "Anonymous", failure, authenticated.Failure?.Message ?? "no credentials");
            return;
        }

        ServiceCaller caller = CallerClaims.ToCaller(authenticated.Principal, security.Jwt?.RoleClaim);
        ArmFailure? refusal = await DecideAsync(caller, permission, context.RequestAborted);
        if (refusal is not null)
        {
            await RefuseAsync(context, caller.AuditName, caller.Kind.ToString(), refusal, refusal.Error.Code);
            return;
        }

        ServiceCaller.Set(context, caller);
        await next(context);
        if (write)
            await AuditAsync(context, caller.AuditName, caller.Kind.ToString(), context.Response.StatusCode, Outcome(context.Response.StatusCode));
    }

    private async Task<ArmFailure?> DecideAsync(ServiceCaller caller, RequiredAccess permission, CancellationToken cancellationToken)
    {
        switch (permission.Kind)
        {
            case PermissionKind.HostContract:
                return caller.Kind == CallerKind.Host && caller.Name.Equals(permission.HostName, StringComparison.OrdinalIgnoreCase)
                    ? null
                    : Forbidden(caller, permission.Action, "/hosts/" + permission.HostName);
            case PermissionKind.Vm or PermissionKind.VmRelay:
            {
                Guid vmId = permission.VmId!.Value;
                VirtualMachineRecord? vm = await machines.GetByVmIdAsync(vmId, cancellationToken);
                if (permission.Kind == PermissionKind.VmRelay && caller.Kind == CallerKind.Host)
                {
                    return vm?.HostName is string placed && placed.Equals(caller.Name, StringComparison.OrdinalIgnoreCase)
                        ? null
                        : Forbidden(caller, permission.Action, $"/vms/{vmId:D}", $"The host '{caller.Name}' may act only for the VMs placed on it; VM {vmId:D} is not.");
                }

                // A VM outside the control plane (tl server vm add) has no scope but the root: only root-scoped roles reach it,
                // and everyone else gets the same 404 as for an id that does not exist.
                if (vm is null)
                    return caller.Kind != CallerKind.Host && caller.Allows(permission.Access, ServiceScope.Root) ? null : UnknownVm(vmId);
                return Scoped(caller, permission.Access, permission.Action, ServiceScope.ResourceGroup(vm.SubscriptionId, vm.ResourceGroup),
                    () => UnknownVm(vmId));
            }

            case PermissionKind.Filtered:
                if (caller.Kind == CallerKind.Host || (permission.Access >= AccessLevel.Write && !caller.Assignments.Any(a => a.Grants(permission.Access))))
                    return Forbidden(caller, permission.Action, permission.Scope);
                return permission.SubscriptionId is string subscription && !caller.Sees(permission.Scope)
                    ? ArmErrors.SubscriptionNotFound(subscription)
                    : null;
            default:
                return Scoped(caller, permission.Access, permission.Action, permission.Scope, () => NotFound(caller, permission));
        }
    }

    private static ArmFailure? Scoped(ServiceCaller caller, AccessLevel access, string action, string scope, Func<ArmFailure> notFound)
    {
        if (caller.Kind == CallerKind.Host)
            return Forbidden(caller, action, scope);
        if (caller.Allows(access, scope))
            return null;
        return caller.Sees(scope) ? Forbidden(caller, action, scope) : notFound();
    }

    private static ArmFailure NotFound(ServiceCaller caller, RequiredAccess permission)
    {
        if (permission.SubscriptionId is string subscription && !caller.Sees(ServiceScope.Subscription(subscription)))
            return ArmErrors.SubscriptionNotFound(subscription);
        if (permission.ResourceGroup is string group)
            return ArmErrors.ResourceGroupNotFound(group);
        return ArmErrors.Fail(StatusCodes.Status404NotFound, "NotFound", "No such resource or endpoint.");
    }

    private static ArmFailure UnknownVm(Guid vmId) =>
        ArmErrors.Fail(StatusCodes.Status404NotFound, "UnknownVm", $"VM {vmId:D} is not registered with this service.");

    /// <summary>Azure's <c>AuthorizationFailed</c>, worded as ARM words it.</summary>
    public static ArmFailure Forbidden(ServiceCaller caller, string action, string scope, string? detail = null) =>
        ArmErrors.Fail(StatusCodes.Status403Forbidden, "AuthorizationFailed",
            $"The client '{caller.Name}' with object id '{caller.ObjectId}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid."
            + (detail is null ? "" : " " + detail));

    private async Task RefuseAsync(HttpContext context, string caller, string kind, ArmFailure failure, string reason)
    {
        SecurityLog.Refused(logger, context.Request.Method, context.Request.Path.Value ?? "/", caller, RemoteAddress(context), failure.StatusCode, reason);
        await ArmHttp.Error(failure).ExecuteAsync(context);
        await AuditAsync(context, caller, kind, failure.StatusCode, $"Denied: {failure.Error.Code}: {failure.Error.Message}");
    }

    private async Task AuditAsync(HttpContext context, string caller, string kind, int status, string outcome)
    {
        try
        {
            // The path only: queries may carry tokens a caller did not mean to have stored.
            await audit.AppendAsync(new AuditEvent(0, time.GetUtcNow(), caller, kind, context.Request.Method, context.Request.Path.Value ?? "/", status,
                outcome, RemoteAddress(context)), CancellationToken.None);
        }
        catch (Exception e) when (e is Server.Stores.StoreException or System.Data.Common.DbException or InvalidOperationException)
        {
            SecurityLog.AuditFailed(logger, e, context.Request.Method, context.Request.Path.Value ?? "/");
        }
    }

    private static string Outcome(int status) => status < 400 ? "Succeeded" : "Failed";

    private static string? RemoteAddress(HttpContext context) => context.Connection.RemoteIpAddress?.ToString();
}
