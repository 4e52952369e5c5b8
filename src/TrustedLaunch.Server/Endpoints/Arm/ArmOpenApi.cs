using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using TrustedLaunch.ControlPlane.Arm;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// The served OpenAPI document (<c>/openapi/v1.json</c>, ASP.NET Core's generator): every ARM operation also gets
/// the required <c>api-version</c> query parameter with the versions its resource type accepts.
/// </summary>
internal static class ArmOpenApi
{
    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "TrustedLaunch: attestation service and ARM control plane";
            document.Info.Description = "docs/server.md (attestation) and docs/control-plane.md (Microsoft.Resources and Microsoft.Compute shapes).";
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<ArmKindMetadata>().FirstOrDefault() is not ArmKindMetadata kind)
                return Task.CompletedTask;
            var versions = new List<JsonNode>(ApiVersions.For(kind.Kind).Select(v => (JsonNode)JsonValue.Create(v)!));
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = ArmHttp.ApiVersionParameter,
                In = ParameterLocation.Query,
                Required = true,
                Description = "Required on every request; a missing or unknown version is answered 400 with the supported list.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = versions },
            });
            return Task.CompletedTask;
        });
    }
}
