using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Endpoints;

/// <summary>
/// <c>/v1/policies/{name}</c>: explicit named reference policies (the verifier's <see cref="ReferencePolicy"/> JSON),
/// and <c>/v1/vms/{vmId}/policy</c>: which one a VM's boots must meet (none: the built-in minimum).
/// </summary>
internal static class PolicyEndpoints
{
    // A policy is a few hundred bytes; even long digest allow-lists stay far below this.
    private const int MaxPolicyBytes = 256 * 1024;

    public static void Map(IEndpointRouteBuilder app)
    {
        RouteGroupBuilder policies = app.MapGroup("/v1/policies");
        policies.MapGet("", ListAsync);
        policies.MapGet("/{name}", GetAsync);
        policies.MapPut("/{name}", PutAsync).AddEndpointFilter<LoopbackOnlyFilter>();
        policies.MapDelete("/{name}", DeleteAsync).AddEndpointFilter<LoopbackOnlyFilter>();
        RouteGroupBuilder vm = app.MapGroup("/v1/vms/{vmId}");
        vm.MapPut("/policy", AssignAsync).AddEndpointFilter<LoopbackOnlyFilter>();
        vm.MapDelete("/policy", UnassignAsync).AddEndpointFilter<LoopbackOnlyFilter>();
    }

    private static async Task<IResult> ListAsync(IPolicyStore policies, IVmRegistry vms, CancellationToken cancellationToken)
    {
        IReadOnlyList<StoredPolicy> stored = await policies.ListAsync(cancellationToken);
        IReadOnlyList<RegisteredVm> registered = await vms.ListAsync(cancellationToken);
        return Results.Json(new PolicyList(stored.Select(p => PolicyView.From(p, registered)).ToArray()), ServiceJson.Options);
    }

    private static async Task<IResult> GetAsync(string name, IPolicyStore policies, IVmRegistry vms, CancellationToken cancellationToken)
    {
        if (!PolicyDocument.IsValidName(name))
            return BadName(name);
        StoredPolicy? stored = await policies.GetAsync(name, cancellationToken);
        return stored is null
            ? UnknownPolicy(name)
            : Results.Json(PolicyView.From(stored, await vms.ListAsync(cancellationToken)), ServiceJson.Options);
    }

    private static async Task<IResult> PutAsync(string name, HttpContext context, IPolicyStore policies, IVmRegistry vms,
        ReferencePolicyCache cache, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!PolicyDocument.IsValidName(name))
            return BadName(name);
        byte[]? body = await RequestBody.ReadAsync(context, MaxPolicyBytes, cancellationToken);
        if (body is null)
            return Problem(StatusCodes.Status413PayloadTooLarge, ServiceProblem.RequestTooLarge, "Policy too large", $"A policy is at most {MaxPolicyBytes} bytes.");
        ReferencePolicy policy;
        try
        {
            policy = PolicyDocument.Parse(body, name);
        }
        catch (FormatException e)
        {
            return Problem(StatusCodes.Status400BadRequest, ServiceProblem.PolicyInvalid, "Policy invalid", $"Policy '{name}': {e.Message}.", "PolicyInvalid");
        }

        var stored = new StoredPolicy(name, Encoding.UTF8.GetString(policy.ToJson()), time.GetUtcNow());
        PolicyWrite write = await policies.SaveAsync(stored, cancellationToken);
        cache.Forget(name);
        Log.PolicyStored(Logger(loggers), name, write);
        PolicyView view = PolicyView.From(stored, await vms.ListAsync(cancellationToken));
        return write == PolicyWrite.Created
            ? Results.Json(view, ServiceJson.Options, statusCode: StatusCodes.Status201Created)
            : Results.Json(view, ServiceJson.Options);
    }

    private static async Task<IResult> DeleteAsync(string name, IPolicyStore policies, IVmRegistry vms, ReferencePolicyCache cache,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!PolicyDocument.IsValidName(name))
            return BadName(name);
        switch (await policies.RemoveAsync(name, cancellationToken))
        {
            case PolicyRemoval.Removed:
                cache.Forget(name);
                Log.PolicyRemoved(Logger(loggers), name);
                return Results.NoContent();
            case PolicyRemoval.NotFound:
                return UnknownPolicy(name);
            default:
                Guid[] users = PolicyView.VmsUsing(name, await vms.ListAsync(cancellationToken));
                return Problem(StatusCodes.Status409Conflict, ServiceProblem.PolicyInUse, "Policy in use",
                    $"Policy '{name}' is used by VM {string.Join(", ", users)}; give them another policy (PUT or DELETE /v1/vms/{{vmId}}/policy) first.",
                    "PolicyInUse");
        }
    }

    private static async Task<IResult> AssignAsync(string vmId, HttpContext context, IVmRegistry vms, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        if (!VmAttestationEndpoints.TryParseVmId(vmId, out Guid id, out IResult? bad))
            return bad;
        byte[]? body = await RequestBody.ReadAsync(context, 64 * 1024, cancellationToken);
        if (body is null)
            return Problem(StatusCodes.Status413PayloadTooLarge, ServiceProblem.RequestTooLarge, "Body too large", "The body exceeds 64 KiB.");
        string? name;
        try
        {
            name = RequestBody.StringProperty(body, "name");
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, ServiceProblem.BadRequest, "Bad body", "The body is not JSON: " + e.Message);
        }

        if (name is null)
            return Problem(StatusCodes.Status400BadRequest, ServiceProblem.BadRequest, "Bad body", "The body must be {\"name\": \"<policy>\"}.");
        if (!PolicyDocument.IsValidName(name))
            return BadName(name);
        return await SetAsync(vms, id, name, loggers, cancellationToken);
    }

    private static async Task<IResult> UnassignAsync(string vmId, IVmRegistry vms, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!VmAttestationEndpoints.TryParseVmId(vmId, out Guid id, out IResult? bad))
            return bad;
        return await SetAsync(vms, id, null, loggers, cancellationToken);
    }

    private static async Task<IResult> SetAsync(IVmRegistry vms, Guid vmId, string? name, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        PolicyAssignment assignment = await vms.SetPolicyAsync(vmId, name, cancellationToken);
        switch (assignment)
        {
            case PolicyAssignment.Assigned:
                string effective = name ?? ReferencePolicy.Minimum.Name;
                Log.PolicyAssigned(Logger(loggers), vmId, effective);
                return Results.Json(new VmPolicy(vmId, effective), ServiceJson.Options);
            case PolicyAssignment.UnknownVm:
                return VmAttestationEndpoints.UnknownVm(vmId);
            default:
                return UnknownPolicy(name!);
        }
    }

    private static ILogger Logger(ILoggerFactory loggers) => loggers.CreateLogger(typeof(PolicyEndpoints).FullName!);

    private static IResult BadName(string name) => Problem(StatusCodes.Status400BadRequest, ServiceProblem.BadRequest, "Bad policy name",
        $"'{name}' cannot name a stored policy: a name has {PolicyDocument.NameRule}, and 'minimum' is the built-in policy.");

    private static IResult UnknownPolicy(string name) => Problem(StatusCodes.Status404NotFound, ServiceProblem.UnknownPolicy, "Unknown policy",
        $"No policy is named '{name}' (PUT /v1/policies/{name} or tl server policy add).", "UnknownPolicy");

    private static IResult Problem(int status, string type, string title, string detail, string? reason = null) =>
        VmAttestationEndpoints.Problem(status, type, title, detail, reason);

    private sealed record PolicyList(PolicyView[] Policies);

    private sealed record VmPolicy(Guid VmId, string Policy);
}
