using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Network;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// The minimal Microsoft.Network model: PUT, GET, DELETE and list of virtualNetworks (and their subnets),
/// networkSecurityGroups, publicIPAddresses and networkInterfaces. Any dated api-version is accepted (templates carry
/// Microsoft.Network versions from 2015 on; the shapes served here have not changed across them).
/// </summary>
internal static partial class NetworkEndpoints
{
    private const string Group = "/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Network";

    public static void Map(RouteGroupBuilder arm)
    {
        foreach (string type in new[] { "virtualNetworks", "networkSecurityGroups", "publicIPAddresses", "networkInterfaces" })
        {
            string fullType = $"Microsoft.Network/{type}";
            arm.MapPut($"{Group}/{type}/{{name}}", (string subscriptionId, string resourceGroupName, string name, HttpContext context, NetworkService network,
                CancellationToken cancellationToken) => PutAsync(new NetworkKey(subscriptionId, resourceGroupName, fullType, name), context, network, cancellationToken))
                .WithName($"{type}_CreateOrUpdate").ProducesArmErrors();
            arm.MapGet($"{Group}/{type}/{{name}}", (string subscriptionId, string resourceGroupName, string name, HttpContext context, NetworkService network,
                CancellationToken cancellationToken) => GetAsync(new NetworkKey(subscriptionId, resourceGroupName, fullType, name), context, network, cancellationToken))
                .WithName($"{type}_Get").ProducesArmErrors();
            arm.MapDelete($"{Group}/{type}/{{name}}", (string subscriptionId, string resourceGroupName, string name, HttpContext context, NetworkService network,
                CancellationToken cancellationToken) => DeleteAsync(new NetworkKey(subscriptionId, resourceGroupName, fullType, name), context, network, cancellationToken))
                .WithName($"{type}_Delete").ProducesArmErrors();
            arm.MapGet($"{Group}/{type}", (string subscriptionId, string resourceGroupName, HttpContext context, NetworkService network,
                CancellationToken cancellationToken) => ListAsync(subscriptionId, resourceGroupName, fullType, context, network, cancellationToken))
                .WithName($"{type}_List").ProducesArmErrors();
        }

        arm.MapPut($"{Group}/virtualNetworks/{{vnet}}/subnets/{{name}}", (string subscriptionId, string resourceGroupName, string vnet, string name, HttpContext context,
            NetworkService network, CancellationToken cancellationToken) =>
            PutAsync(new NetworkKey(subscriptionId, resourceGroupName, NetworkTypes.Subnets, $"{vnet}/{name}"), context, network, cancellationToken))
            .WithName("Subnets_CreateOrUpdate").ProducesArmErrors();
        arm.MapGet($"{Group}/virtualNetworks/{{vnet}}/subnets/{{name}}", (string subscriptionId, string resourceGroupName, string vnet, string name, HttpContext context,
            NetworkService network, CancellationToken cancellationToken) =>
            GetAsync(new NetworkKey(subscriptionId, resourceGroupName, NetworkTypes.Subnets, $"{vnet}/{name}"), context, network, cancellationToken))
            .WithName("Subnets_Get").ProducesArmErrors();
    }

    private static async Task<IResult> PutAsync(NetworkKey key, HttpContext context, NetworkService network, CancellationToken cancellationToken)
    {
        if (CheckApiVersion(context) is IResult badVersion)
            return badVersion;
        (byte[]? body, IResult? refusal) = await ArmHttp.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        JsonObject? request;
        try
        {
            request = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException e)
        {
            return ArmHttp.Error(ArmErrors.InvalidRequestContent(e.Message));
        }

        if (request is null)
            return ArmHttp.Error(ArmErrors.InvalidRequestContent("The body must be a JSON object."));
        ArmResult<NetworkWrite> written = await network.PutAsync(key, request, cancellationToken);
        return written.Failure is ArmFailure failure
            ? ArmHttp.Error(failure)
            : DeploymentEndpoints.Node(written.Value!.Resource, written.Value.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> GetAsync(NetworkKey key, HttpContext context, NetworkService network, CancellationToken cancellationToken)
    {
        if (CheckApiVersion(context) is IResult badVersion)
            return badVersion;
        ArmResult<JsonObject> found = await network.GetAsync(key, cancellationToken);
        return found.Failure is ArmFailure failure ? ArmHttp.Error(failure) : DeploymentEndpoints.Node(found.Value!);
    }

    private static async Task<IResult> DeleteAsync(NetworkKey key, HttpContext context, NetworkService network, CancellationToken cancellationToken)
    {
        if (CheckApiVersion(context) is IResult badVersion)
            return badVersion;
        ArmResult<bool> deleted = await network.DeleteAsync(key, cancellationToken);
        return deleted.Failure is ArmFailure refused ? ArmHttp.Error(refused) : deleted.Value ? Results.Ok() : Results.NoContent();
    }

    private static async Task<IResult> ListAsync(string subscriptionId, string resourceGroup, string type, HttpContext context, NetworkService network,
        CancellationToken cancellationToken)
    {
        if (CheckApiVersion(context) is IResult badVersion)
            return badVersion;
        ArmResult<IReadOnlyList<JsonObject>> found = await network.ListAsync(subscriptionId, resourceGroup, type, cancellationToken);
        return found.Failure is ArmFailure failure
            ? ArmHttp.Error(failure)
            : DeploymentEndpoints.Node(new JsonObject { ["value"] = new JsonArray(found.Value!.Select(r => (JsonNode?)r).ToArray()) });
    }

    private static IResult? CheckApiVersion(HttpContext context)
    {
        string? version = context.Request.Query[ArmHttp.ApiVersionParameter].FirstOrDefault();
        if (string.IsNullOrEmpty(version))
            return ArmHttp.Error(ArmErrors.MissingApiVersion());
        return DatedVersion().IsMatch(version) ? null : ArmHttp.Error(ArmErrors.InvalidApiVersion(version, ["YYYY-MM-DD (any Microsoft.Network version)"]));
    }

    [GeneratedRegex("^20[0-9]{2}-[01][0-9]-[0-3][0-9](-preview)?$", RegexOptions.CultureInvariant)]
    private static partial Regex DatedVersion();
}
