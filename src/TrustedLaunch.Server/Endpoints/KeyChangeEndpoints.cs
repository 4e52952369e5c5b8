using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server.Endpoints;

/// <summary>
/// <c>POST /v1/vms/{vmId}/baseline:key-change</c> (loopback only, like a relearn): arms the sanctioned Secure Boot key
/// change <c>tl vmgs update-keys --json</c> reports as <c>sanction</c>, before the VM's next boot (docs/secureboot-rollover.md).
/// </summary>
internal static class KeyChangeEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/vms/{vmId}/baseline:key-change", ArmAsync).AddEndpointFilter<LoopbackOnlyFilter>();
    }

    private static async Task<IResult> ArmAsync(string vmId, HttpContext context, AttestationService service, AttestationServiceOptions options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (!VmAttestationEndpoints.TryParseVmId(vmId, out Guid id, out IResult? bad))
            return bad;
        byte[]? body = await RequestBody.ReadAsync(context, options.MaxRequestBodyBytes, cancellationToken);
        KeyChangeRequest? request = null;
        try
        {
            request = body is null ? null : JsonSerializer.Deserialize<KeyChangeRequest>(body, ServiceJson.Options);
        }
        catch (JsonException)
        {
            // Answered below as a bad request.
        }

        if (request is not { OperationId.Length: > 0, Kek: not null, Db: not null, DbxDigest.Length: 64 } || request.DbxCount < 0)
        {
            return VmAttestationEndpoints.Problem(StatusCodes.Status400BadRequest, ServiceProblem.BadRequest, "Bad key change",
                "The body must be the 'sanction' of tl vmgs update-keys --json: {operationId, kek: [sha256…], db: [sha256…], dbxCount, dbxDigest}.");
        }

        var change = new SanctionedKeyChange
        {
            OperationId = request.OperationId, ArmedAt = time.GetUtcNow(), Kek = request.Kek, Db = request.Db, DbxCount = request.DbxCount, DbxDigest = request.DbxDigest,
        };
        return await service.ArmKeyChangeAsync(id, change, cancellationToken) switch
        {
            null => VmAttestationEndpoints.UnknownVm(id),
            bool armed => Results.Json(new KeyChangeResponse(id, request.OperationId, armed), ServiceJson.Options, statusCode: StatusCodes.Status202Accepted),
        };
    }

    private sealed record KeyChangeRequest(string OperationId, string[] Kek, string[] Db, int DbxCount, string DbxDigest);

    /// <summary><c>armed</c> false: the VM has no baseline yet, so its first passing attestation learns one with the new keys.</summary>
    private sealed record KeyChangeResponse(Guid VmId, string OperationId, bool Armed);
}
