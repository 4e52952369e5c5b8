using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.Server.Endpoints.Arm;

/// <summary>
/// Microsoft.Compute subscription-level resources: the operation monitor, the sizes (<c>vmSizes</c>, <c>skus</c>) and
/// the platform image catalog as Azure lists it (publishers → offers → skus → versions), plus this platform's image
/// registration (a PUT on a version, which Azure does not have).
/// </summary>
internal static class ComputeCatalogEndpoints
{
    private const string Location = "/{subscriptionId}/providers/Microsoft.Compute/locations/{location}";
    private const string Publishers = Location + "/publishers";
    private const string Offers = Publishers + "/{publisher}/artifacttypes/vmimage/offers";
    private const string Skus = Offers + "/{offer}/skus";
    private const string Versions = Skus + "/{sku}/versions";

    public static void Map(RouteGroupBuilder arm)
    {
        arm.MapGet(Location + "/operations/{operationId}", GetOperationAsync).Kind(ArmResourceKind.Operation).WithName("Operations_Get")
            .Produces<OperationStatusResource>().Produces(StatusCodes.Status202Accepted);
        arm.MapGet(Location + "/vmSizes", ListSizes).Kind(ArmResourceKind.VirtualMachineSize).WithName("VirtualMachineSizes_List")
            .Produces<ArmList<VirtualMachineSizeResource>>();
        arm.MapGet("/{subscriptionId}/providers/Microsoft.Compute/skus", ListSkus).Kind(ArmResourceKind.ResourceSku).WithName("ResourceSkus_List")
            .Produces<ArmList<ResourceSkuResource>>();
        arm.MapGet(Publishers, ListPublishersAsync).Kind(ArmResourceKind.VirtualMachineImage).WithName("VirtualMachineImages_ListPublishers")
            .Produces<IReadOnlyList<VirtualMachineImageResource>>();
        arm.MapGet(Offers, ListOffersAsync).Kind(ArmResourceKind.VirtualMachineImage).WithName("VirtualMachineImages_ListOffers")
            .Produces<IReadOnlyList<VirtualMachineImageResource>>();
        arm.MapGet(Skus, ListImageSkusAsync).Kind(ArmResourceKind.VirtualMachineImage).WithName("VirtualMachineImages_ListSkus")
            .Produces<IReadOnlyList<VirtualMachineImageResource>>();
        arm.MapGet(Versions, ListVersionsAsync).Kind(ArmResourceKind.VirtualMachineImage).WithName("VirtualMachineImages_List")
            .Produces<IReadOnlyList<VirtualMachineImageResource>>();
        arm.MapGet(Versions + "/{version}", GetVersionAsync).Kind(ArmResourceKind.VirtualMachineImage).WithName("VirtualMachineImages_Get")
            .Produces<VirtualMachineImage>();
        arm.MapPut(Versions + "/{version}", RegisterVersionAsync).Kind(ArmResourceKind.VirtualMachineImage).WithName("VirtualMachineImages_Register")
            .Accepts<ImageRegistrationRequest>("application/json").Produces<VirtualMachineImage>().AddEndpointFilter<ArmLoopbackOnlyFilter>();
    }

    private static async Task<IResult> GetOperationAsync(string subscriptionId, string operationId, [FromQuery(Name = "monitor")] bool? monitor,
        HttpContext context, OperationService operations, ControlPlaneOptions options, CancellationToken cancellationToken)
    {
        ArmResult<OperationRecord> found = await operations.GetAsync(subscriptionId, operationId, cancellationToken);
        if (found.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        OperationRecord operation = found.Value!;
        if (monitor != true)
            return ArmHttp.Json(context, VirtualMachineViews.Operation(operation), ControlPlaneJson.Web.OperationStatusResource);
        // The Location monitor: 202 while running, then the answer the request would have had synchronously.
        switch (operation.Status)
        {
            case OperationStatus.InProgress:
                ArmHttp.OperationHeaders(context, operation, accepted: true, options.RetryAfterSeconds);
                return Results.StatusCode(StatusCodes.Status202Accepted);
            case OperationStatus.Succeeded:
                return Results.Ok();
            case OperationStatus.Canceled:
                return ArmHttp.Error(new ArmFailure(StatusCodes.Status409Conflict, operation.Error ?? ArmErrors.OperationPreempted()));
            default:
                return ArmHttp.Error(new ArmFailure(StatusCodes.Status500InternalServerError,
                    operation.Error ?? new ArmErrorDetail { Code = "InternalExecutionError", Message = "The operation failed." }));
        }
    }

    private static IResult ListSizes(HttpContext context, VirtualMachineService vms) =>
        ArmHttp.Json(context, new ArmList<VirtualMachineSizeResource>
        {
            Value = vms.Sizes.Sizes.Select(s => new VirtualMachineSizeResource { Name = s.Name, NumberOfCores = s.VCpus, MemoryInMB = s.MemoryInMB }).ToArray(),
        }, ControlPlaneJson.Web.ArmListVirtualMachineSizeResource);

    private static IResult ListSkus(HttpContext context, VirtualMachineService vms, ControlPlaneOptions options)
    {
        IReadOnlyList<string> locations = options.Locations ?? [options.DefaultLocation];
        return ArmHttp.Json(context, new ArmList<ResourceSkuResource>
        {
            Value = vms.Sizes.Sizes.Select(s => new ResourceSkuResource
            {
                Name = s.Name,
                Size = s.Name["Standard_".Length..],
                Family = "standard" + s.Series + "Family",
                Locations = locations,
                Capabilities = Capabilities(s),
            }).ToArray(),
        }, ControlPlaneJson.Web.ArmListResourceSkuResource);
    }

    // As az vm list-skus shows them; TrustedLaunchDisabled appears only on sizes that cannot run Trusted Launch.
    private static ResourceSkuCapability[] Capabilities(VmSize size)
    {
        var capabilities = new List<ResourceSkuCapability>
        {
            new("vCPUs", size.VCpus.ToString(CultureInfo.InvariantCulture)),
            new("MemoryGB", (size.MemoryInMB / 1024.0).ToString("0.##", CultureInfo.InvariantCulture)),
            new("HyperVGenerations", size.HyperVGenerations),
        };
        if (!size.TrustedLaunch)
            capabilities.Add(new ResourceSkuCapability("TrustedLaunchDisabled", "True"));
        return [.. capabilities];
    }

    private static async Task<IResult> ListPublishersAsync(string subscriptionId, string location, HttpContext context, ImageCatalogService images,
        CancellationToken cancellationToken) =>
        Array(context, await images.ListLevelAsync(subscriptionId, location, null, null, cancellationToken));

    private static async Task<IResult> ListOffersAsync(string subscriptionId, string location, string publisher, HttpContext context,
        ImageCatalogService images, CancellationToken cancellationToken) =>
        Array(context, await images.ListLevelAsync(subscriptionId, location, publisher, null, cancellationToken));

    private static async Task<IResult> ListImageSkusAsync(string subscriptionId, string location, string publisher, string offer, HttpContext context,
        ImageCatalogService images, CancellationToken cancellationToken) =>
        Array(context, await images.ListLevelAsync(subscriptionId, location, publisher, offer, cancellationToken));

    private static async Task<IResult> ListVersionsAsync(string subscriptionId, string location, string publisher, string offer, string sku,
        HttpContext context, ImageCatalogService images, CancellationToken cancellationToken) =>
        Array(context, await images.ListVersionsAsync(subscriptionId, location, publisher, offer, sku, cancellationToken));

    private static async Task<IResult> GetVersionAsync(string subscriptionId, string location, string publisher, string offer, string sku, string version,
        HttpContext context, ImageCatalogService images, CancellationToken cancellationToken)
    {
        ArmResult<VirtualMachineImage> found = await images.GetVersionAsync(subscriptionId, location, publisher, offer, sku, version, cancellationToken);
        return found.Failure is ArmFailure failure ? ArmHttp.Error(failure) : ArmHttp.Json(context, found.Value!, ControlPlaneJson.Web.VirtualMachineImage);
    }

    private static async Task<IResult> RegisterVersionAsync(string subscriptionId, string location, string publisher, string offer, string sku,
        string version, HttpContext context, ImageCatalogService images, CancellationToken cancellationToken)
    {
        (byte[]? body, IResult? refusal) = await ArmHttp.ReadBodyAsync(context, cancellationToken);
        if (refusal is not null)
            return refusal;
        ArmResult<ImageRegistrationRequest> request = ControlPlaneJson.Read(body, ControlPlaneJson.Web.ImageRegistrationRequest);
        if (request.Failure is ArmFailure malformed)
            return ArmHttp.Error(malformed);
        ArmResult<ImageEntry> registered = await images.RegisterAsync(publisher, offer, sku, version, request.Value!.Properties?.FilePath, cancellationToken);
        return registered.Failure is ArmFailure failure
            ? ArmHttp.Error(failure)
            : ArmHttp.Json(context, ImageCatalogService.View(subscriptionId, ResourceIds.NormalizeLocation(location), registered.Value!),
                ControlPlaneJson.Web.VirtualMachineImage);
    }

    private static IResult Array(HttpContext context, IReadOnlyList<VirtualMachineImageResource> entries) =>
        ArmHttp.Json(context, entries, ControlPlaneJson.Web.IReadOnlyListVirtualMachineImageResource);
}
