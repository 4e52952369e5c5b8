using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Network;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Deployments;

/// <summary>
/// Deploys Microsoft.Compute/virtualMachines through <see cref="VirtualMachineService"/> (the same rules as a PUT) and
/// waits for the VM's operation: a VM is deployed when its host runs it. A VM already as the template declares it is
/// left alone (no new version, no restart): incremental redeployment is a no-op.
/// </summary>
public sealed class VirtualMachineHandler(VirtualMachineService vms, IOperationStore operations, ImageCatalogService images, NetworkService network,
    VirtualMachineLifecycle lifecycle, TimeProvider time) : IResourceTypeHandler
{
    /// <summary>How often the VM's operation is read while it runs.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public string ResourceType => Arm.ResourceIds.VirtualMachineType;

    public async Task<ArmErrorDetail?> ValidateAsync(ResourceDeployment resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArmResult<VirtualMachineResource> parsed = Parse(resource.Body);
        if (parsed.Failure is ArmFailure malformed)
            return malformed.Error;
        ImageReference? image = parsed.Value!.Properties?.StorageProfile?.ImageReference;
        ImageLookup lookup = await images.LookupAsync(image, null, cancellationToken);
        if (lookup.Kind == ImageKind.Platform && lookup.Found == false)
        {
            return new ArmErrorDetail
            {
                Code = "PlatformImageNotFound",
                Message = $"The platform image '{lookup.Urn}' is not available. Verify that all fields in the storage profile are correct. " +
                    "An operator maps an image reference from an Azure template to a local disk with 'tl image register --publisher … --offer … --sku … --file …'.",
                Target = $"{resource.Name}: properties.storageProfile.imageReference",
            };
        }

        return null;
    }

    public async Task<ResourceDeploymentResult> DeployAsync(ResourceDeployment resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var key = new VirtualMachineKey(resource.SubscriptionId, resource.ResourceGroup, resource.Name);
        foreach (string nicId in NetworkInterfaceIds(resource.Body))
        {
            if (await network.FindAsync(nicId, cancellationToken) is null)
                return ResourceDeploymentResult.Failed(new ArmFailure(ArmErrors.BadRequest, NetworkValidation.MissingReference(nicId, resource.Name,
                    "properties.networkProfile.networkInterfaces")));
        }

        ArmResult<VirtualMachineRecord> existing = await vms.GetAsync(key, cancellationToken);
        if (existing.Value is VirtualMachineRecord current && Parse(resource.Body).Value is VirtualMachineResource sent && IsUnchanged(current, sent))
            return new ResourceDeploymentResult { State = State(current), Unchanged = true };

        byte[] body = JsonSerializer.SerializeToUtf8Bytes(resource.Body, ControlPlaneJson.Default.JsonObject);
        ArmResult<VmWriteResult> written = await vms.PutAsync(key, body, null, null, patch: false, cancellationToken);
        if (written.Failure is ArmFailure failure)
            return ResourceDeploymentResult.Failed(failure);
        if (written.Value!.Operation is OperationRecord operation && await WaitAsync(operation, cancellationToken) is ArmFailure failed)
            return ResourceDeploymentResult.Failed(failed);
        VirtualMachineRecord vm = (await vms.GetAsync(key, cancellationToken)).Value ?? written.Value.Vm;
        return new ResourceDeploymentResult { State = State(vm), Created = written.Value.Created };
    }

    public async Task<JsonObject?> GetStateAsync(string subscriptionId, string resourceGroup, string name, CancellationToken cancellationToken) =>
        (await vms.GetAsync(new VirtualMachineKey(subscriptionId, resourceGroup, name), cancellationToken)).Value is VirtualMachineRecord vm ? State(vm) : null;

    /// <summary>The group's VMs; instances of a scale set belong to their scale set (not a template type here) and are left to it.</summary>
    public async Task<IReadOnlyList<string>> ListNamesAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        string? token = null;
        do
        {
            ArmResult<Page<VirtualMachineRecord>> page = await vms.ListAsync(subscriptionId, resourceGroup, token, cancellationToken);
            if (page.Value is null)
                break;
            names.AddRange(page.Value.Items.Where(vm => vm.Model.Properties.VirtualMachineScaleSet is null).Select(vm => vm.Name));
            token = page.Value.ContinuationToken;
        }
        while (token is not null);
        return names;
    }

    /// <summary>Deletes the VM (its host removes it, its Delete disks and NICs with it) and waits until it is gone.</summary>
    public async Task<ArmFailure?> DeleteAsync(string subscriptionId, string resourceGroup, string name, CancellationToken cancellationToken)
    {
        ArmResult<OperationRecord?> deleting = await lifecycle.DeleteAsync(new VirtualMachineKey(subscriptionId, resourceGroup, name), ifMatch: null, cancellationToken);
        if (deleting.Failure is ArmFailure failure)
            return failure;
        return deleting.Value is OperationRecord operation ? await WaitAsync(operation, cancellationToken) : null;
    }

    /// <summary>What-if compares what Azure's VM model keeps of the body (no adminPassword, no linuxConfiguration), as a redeploy does.</summary>
    public JsonObject ComparableBody(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (Parse(body).Value is not VirtualMachineResource sent)
            return body;
        return JsonSerializer.SerializeToNode(sent with { Id = null, Name = null, Type = null, Location = sent.Location is null ? null : Arm.ResourceIds.NormalizeLocation(sent.Location) },
            ControlPlaneJson.Web.VirtualMachineResource)?.AsObject() ?? body;
    }

    internal static JsonObject State(VirtualMachineRecord vm) =>
        JsonSerializer.SerializeToNode(VirtualMachineViews.Resource(vm, ApiVersions.Compute[0]), ControlPlaneJson.Web.VirtualMachineResource)!.AsObject();

    internal static IEnumerable<string> NetworkInterfaceIds(JsonObject body) =>
        NetworkTypes.Items(NetworkTypes.Member(NetworkTypes.Member(body, "properties"), "networkProfile"), "networkInterfaces")
            .Select(n => NetworkTypes.Text(n, "id")).OfType<string>();

    private async Task<ArmFailure?> WaitAsync(OperationRecord operation, CancellationToken cancellationToken)
    {
        while (true)
        {
            OperationRecord? now = await operations.GetAsync(operation.OperationId, cancellationToken);
            switch (now?.Status)
            {
                case null:
                case OperationStatus.Succeeded:
                    return null;
                case OperationStatus.InProgress:
                    await Task.Delay(PollInterval, time, cancellationToken);
                    continue;
                default:
                    return new ArmFailure(ArmErrors.Conflict, now.Error ?? new ArmErrorDetail { Code = now.Status.ToString(), Message = $"The VM's {now.Kind} operation ended {now.Status}." });
            }
        }
    }

    // Incremental redeployment: when every member the template sends already has that value, nothing is sent to the
    // VM (a PUT would make a new version and an update on its host). Compared on Azure's typed model, so members this
    // platform does not keep (adminPassword, linuxConfiguration) do not count, and strings case-insensitively (enums).
    private static bool IsUnchanged(VirtualMachineRecord current, VirtualMachineResource sent)
    {
        JsonNode? stored = JsonSerializer.SerializeToNode(new VirtualMachineResource { Location = current.Location, Tags = current.Model.Tags, Properties = current.Model.Properties },
            ControlPlaneJson.Default.VirtualMachineResource);
        JsonNode? wanted = JsonSerializer.SerializeToNode(sent with { Id = null, Name = null, Type = null, Location = sent.Location is null ? null : Arm.ResourceIds.NormalizeLocation(sent.Location) },
            ControlPlaneJson.Default.VirtualMachineResource);
        return Covers(stored, wanted);
    }

    private static bool Covers(JsonNode? stored, JsonNode? wanted) => wanted switch
    {
        null => true,
        JsonObject w => stored is JsonObject s && w.All(m => m.Value is null || (TemplateValues.TryGetMember(s, m.Key, out JsonNode? v) && Covers(v, m.Value))),
        JsonArray w => stored is JsonArray s && s.Count == w.Count && w.Select((item, i) => Covers(s[i], item)).All(b => b),
        _ when TemplateValues.TryGetString(wanted, out string text) => TemplateValues.TryGetString(stored, out string have) && have.Equals(text, StringComparison.OrdinalIgnoreCase),
        _ => TemplateValues.DeepEquals(stored, wanted),
    };

    private static ArmResult<VirtualMachineResource> Parse(JsonObject body) =>
        ControlPlaneJson.Read(JsonSerializer.SerializeToUtf8Bytes(body, ControlPlaneJson.Default.JsonObject), ControlPlaneJson.Default.VirtualMachineResource);
}
