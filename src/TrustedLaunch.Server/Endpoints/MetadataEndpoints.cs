using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.Server.Stores.Sql;

namespace TrustedLaunch.Server.Endpoints;

/// <summary>
/// What relying parties need to verify tokens offline, as MAA publishes it: OpenID provider metadata at
/// <c>/.well-known/openid-configuration</c> (OpenID Connect Discovery 1.0 §3) and the signing keys as a JWK Set at
/// <c>/certs</c> (RFC 7517 §5); plus <c>/healthz</c>.
/// </summary>
internal static class MetadataEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/openid-configuration", (TokenService tokens) => Results.Json(new OpenIdConfiguration(
            tokens.Issuer,
            tokens.Issuer.TrimEnd('/') + "/certs",
            ["token", "none"],
            [tokens.Algorithm],
            ["public"],
            tokens.ClaimsSupported), ServiceJson.SnakeCaseOptions));
        app.MapGet("/certs", (TokenService tokens) => Results.Bytes(tokens.Jwks, "application/json"));
        app.MapGet("/healthz", async (StoreDatabase database, CancellationToken cancellationToken) =>
            Results.Json(new Health("ok", await database.ReadSchemaVersionAsync(cancellationToken)), ServiceJson.Options));
    }

    // OpenID Connect Discovery 1.0 §3 field names; MAA serves the same set (plus its own extras).
    private sealed record OpenIdConfiguration(
        string Issuer,
        string JwksUri,
        string[] ResponseTypesSupported,
        string[] IdTokenSigningAlgValuesSupported,
        string[] SubjectTypesSupported,
        IReadOnlyList<string> ClaimsSupported);

    private sealed record Health(string Status, int SchemaVersion);
}
