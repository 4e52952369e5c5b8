using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Endpoints;

/// <summary>
/// <c>/v1/vms/{vmId}/…</c>: challenges, evidence, results, relearn and the host relay's agent-unresponsive report.
/// Shaped after Keylime's v3 push API (challenge resource with expiry, evidence, results) with synchronous verification.
/// </summary>
internal static class VmAttestationEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        RouteGroupBuilder vm = app.MapGroup("/v1/vms/{vmId}");
        vm.MapPost("/challenges", IssueChallengeAsync).WithMetadata(EvidenceExchange.Marker);
        vm.MapPost("/attestations", AttestAsync).WithMetadata(EvidenceExchange.Marker);
        vm.MapGet("/attestations", ListAsync);
        vm.MapGet("/attestations/latest", LatestAsync);
        vm.MapPost("/attestations:agent-unresponsive", AgentUnresponsiveAsync);
        vm.MapPost("/baseline:relearn", RelearnAsync).AddEndpointFilter<LoopbackOnlyFilter>();
    }

    /// <summary>Whether the request was routed to a challenge or an evidence endpoint (the two calls of every attestation).</summary>
    public static bool IsEvidenceExchange(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<EvidenceExchange>() is not null;

    private static async Task<IResult> IssueChallengeAsync(string vmId, AttestationService service, CancellationToken cancellationToken)
    {
        if (!TryParseVmId(vmId, out Guid id, out IResult? bad))
            return bad;
        IssuedNonce? nonce = await service.IssueChallengeAsync(id, cancellationToken);
        if (nonce is null)
            return UnknownVm(id);
        return EvidenceResponses.Challenge(nonce.Value, nonce.ExpiresAt);
    }

    private static async Task<IResult> AttestAsync(string vmId, HttpContext context, AttestationService service, AttestationServiceOptions options,
        CancellationToken cancellationToken)
    {
        if (!TryParseVmId(vmId, out Guid id, out IResult? bad))
            return bad;
        AttestationOutcome outcome;
        using (RentedBody? body = await RequestBody.ReadRentedAsync(context, options.MaxRequestBodyBytes, cancellationToken))
        {
            if (body is null)
            {
                return Problem(StatusCodes.Status413PayloadTooLarge, ServiceProblem.RequestTooLarge, "Evidence too large",
                    $"The request body exceeds {options.MaxRequestBodyBytes} bytes.", reason: "EvidenceMalformed");
            }

            outcome = await service.AttestAsync(id, body.Memory, cancellationToken);
        }

        return outcome.Kind switch
        {
            AttestationOutcomeKind.Passed => EvidenceResponses.Pass(outcome.Record!.Id, outcome.Token!, outcome.Record.ClaimsJson!,
                outcome.BaselineLearned, outcome.TokenBound ? BoundTokenEncryption : null),
            AttestationOutcomeKind.BoundKeyRefused => BoundKeyRefused(outcome),
            AttestationOutcomeKind.UnknownVm => UnknownVm(id),
            AttestationOutcomeKind.NonceRejected => Problem(StatusCodes.Status409Conflict, ServiceProblem.NonceRejected, "Nonce rejected",
                outcome.Message!, outcome.Reason, outcome.Component, outcome.Record?.Id),
            AttestationOutcomeKind.Malformed => Problem(StatusCodes.Status400BadRequest, ServiceProblem.ForReason(outcome.Reason!), "Evidence malformed",
                outcome.Message!, outcome.Reason, outcome.Component, outcome.Record?.Id),
            AttestationOutcomeKind.Failed => Problem(StatusCodes.Status422UnprocessableEntity, ServiceProblem.ForReason(outcome.Reason!),
                "Attestation failed", outcome.Message!, outcome.Reason, outcome.Component, outcome.Record?.Id,
                outcome.Result?.Deviations, outcome.Result?.PolicyViolations),
            _ => throw new InvalidOperationException($"Unhandled outcome {outcome.Kind}."),
        };
    }

    private static async Task<IResult> ListAsync(string vmId, int? limit, IVmRegistry vms, IAttestationResultStore results,
        AttestationServiceOptions options, CancellationToken cancellationToken)
    {
        if (!TryParseVmId(vmId, out Guid id, out IResult? bad))
            return bad;
        int take = limit ?? options.DefaultListLimit;
        if (take < 1 || take > options.MaxListLimit)
            return Problem(StatusCodes.Status400BadRequest, ServiceProblem.BadRequest, "Bad limit", $"limit must be 1..{options.MaxListLimit}.");
        if (await vms.GetAsync(id, cancellationToken) is null)
            return UnknownVm(id);
        IReadOnlyList<AttestationRecord> records = await results.ListAsync(id, take, cancellationToken);
        return Results.Json(new ResultList(id, records.Select(ResultView.From).ToArray()), ServiceJson.Options);
    }

    private static async Task<IResult> LatestAsync(string vmId, IVmRegistry vms, IAttestationResultStore results, CancellationToken cancellationToken)
    {
        if (!TryParseVmId(vmId, out Guid id, out IResult? bad))
            return bad;
        if (await vms.GetAsync(id, cancellationToken) is null)
            return UnknownVm(id);
        AttestationRecord? latest = await results.GetLatestAsync(id, cancellationToken);
        return latest is null
            ? Problem(StatusCodes.Status404NotFound, ServiceProblem.TypePrefix + "NoResults", "No results", $"VM {id} has not attested yet.")
            : Results.Json(ResultView.From(latest), ServiceJson.Options);
    }

    private static async Task<IResult> AgentUnresponsiveAsync(string vmId, HttpContext context, AttestationService service,
        CancellationToken cancellationToken)
    {
        if (!TryParseVmId(vmId, out Guid id, out IResult? bad))
            return bad;
        // The relay may say what it saw (timeout, socket closed); the body is optional and small.
        byte[]? body = await RequestBody.ReadAsync(context, 64 * 1024, cancellationToken);
        if (body is null)
            return Problem(StatusCodes.Status413PayloadTooLarge, ServiceProblem.RequestTooLarge, "Report too large", "The report exceeds 64 KiB.");
        string? detail = null;
        if (body.Length > 0)
        {
            try
            {
                detail = RequestBody.StringProperty(body, "message");
            }
            catch (JsonException e)
            {
                return Problem(StatusCodes.Status400BadRequest, ServiceProblem.BadRequest, "Bad report", "The body is not JSON: " + e.Message);
            }
        }

        AttestationRecord? record = await service.RecordAgentUnresponsiveAsync(id, detail, cancellationToken);
        return record is null ? UnknownVm(id) : Results.Json(ResultView.From(record), ServiceJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> RelearnAsync(string vmId, AttestationService service, CancellationToken cancellationToken)
    {
        if (!TryParseVmId(vmId, out Guid id, out IResult? bad))
            return bad;
        return await service.RequestRelearnAsync(id, cancellationToken)
            ? Results.Json(new RelearnResponse(id, true), ServiceJson.Options, statusCode: StatusCodes.Status202Accepted)
            : UnknownVm(id);
    }

    internal static bool TryParseVmId(string text, out Guid vmId, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out IResult? problem)
    {
        if (Guid.TryParseExact(text, "D", out vmId))
        {
            problem = null;
            return true;
        }

        problem = Problem(StatusCodes.Status400BadRequest, ServiceProblem.BadRequest, "Bad VM id", "The VM id must be a UUID (8-4-4-4-12 hex digits).");
        return false;
    }

    internal static IResult UnknownVm(Guid vmId) =>
        Problem(StatusCodes.Status404NotFound, ServiceProblem.UnknownVm, "Unknown VM", $"VM {vmId} is not registered (tl server vm add).", reason: "UnknownVm");

    internal static IResult Problem(int status, string type, string title, string detail, string? reason = null, string? component = null,
        long? resultId = null, IReadOnlyList<BaselineDeviation>? deviations = null, IReadOnlyList<PolicyViolation>? violations = null)
    {
        var extensions = new Dictionary<string, object?>(StringComparer.Ordinal);
        // A stored failing result (malformed evidence, rejected nonce, failed verification) carries verdict "fail".
        if (resultId is not null)
            extensions["verdict"] = "fail";
        if (reason is not null)
            extensions["reason"] = reason;
        if (component is not null)
            extensions["component"] = component;
        if (resultId is not null)
            extensions["resultId"] = resultId;
        // Baseline deviations and policy violations are both reported when both were found; the reason names the first.
        if (deviations is { Count: > 0 })
            extensions["deviations"] = deviations;
        if (violations is { Count: > 0 })
            extensions["violations"] = violations;
        return Results.Problem(detail: detail, statusCode: status, title: title, type: type, extensions: extensions);
    }

    // RFC 7516 §7.1 compact JWE, alg RSA-OAEP-256 (RFC 7518 §4.3), enc A256GCM (RFC 7518 §5.3).
    private const string BoundTokenEncryption = "RSA-OAEP-256+A256GCM";

    // 422 with verdict "pass": the boot passed, the token was withheld because the key cannot keep it inside the vTPM.
    private static IResult BoundKeyRefused(AttestationOutcome outcome)
    {
        var extensions = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["verdict"] = "pass",
            ["reason"] = outcome.Reason,
            ["boundKeyReason"] = outcome.BoundKeyFailure!.Reason.ToString(),
            ["component"] = outcome.Component,
            ["resultId"] = outcome.Record!.Id,
        };
        return Results.Problem(detail: outcome.Message, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Bound token refused",
            type: ServiceProblem.ForReason("BoundKeyRefused"), extensions: extensions);
    }

    private sealed record ResultList(Guid VmId, ResultView[] Results);

    private sealed record RelearnResponse(Guid VmId, bool RelearnRequested);
}

/// <summary>One stored result as the API shows it.</summary>
internal sealed record ResultView(long Id, Guid VmId, DateTimeOffset At, string Verdict, string? Reason, string? Component, string? Message,
    string? TokenId, JsonElement? Claims)
{
    public static ResultView From(AttestationRecord record) => new(record.Id, record.VmId, record.At,
        record.Verdict == AttestationVerdict.Pass ? "pass" : "fail", record.Reason, record.Component, record.Message, record.TokenId,
        record.ClaimsJson is null ? null : ServiceJson.ParseElement(record.ClaimsJson));
}

/// <summary>Endpoint metadata of the challenge and evidence endpoints, which the service runs on a short pipeline (AttestationServiceHost).</summary>
internal sealed class EvidenceExchange
{
    public static readonly EvidenceExchange Marker = new();

    private EvidenceExchange()
    {
    }
}
