using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Network;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Deployments;

/// <summary>
/// <c>Microsoft.Compute/virtualMachines/extensions</c>: the guest attestation extension as Azure templates declare it
/// (publisher <c>Microsoft.Azure.Security.LinuxAttestation</c> or <c>WindowsAttestation</c>, type <c>GuestAttestation</c>)
/// maps to this platform's guest agent, which every VM image here carries: nothing is installed; the extension is
/// recorded and reported installed (<c>Succeeded</c>) once the VM's agent has answered, i.e. the attestation service
/// holds a result for the VM. Any other extension is refused by name. Its MAA settings are accepted and not used:
/// evidence goes to this platform's attestation service.
/// </summary>
public sealed class GuestAttestationExtensionHandler(VirtualMachineService vms, INetworkResourceStore resources, IAttestationStatusSource attestations,
    TimeProvider time) : IResourceTypeHandler
{
    public const string Type = "Microsoft.Compute/virtualMachines/extensions";

    private static readonly string[] Publishers = ["Microsoft.Azure.Security.LinuxAttestation", "Microsoft.Azure.Security.WindowsAttestation"];

    /// <summary>How long a deployment waits for the VM's agent to answer (its first attestation).</summary>
    public TimeSpan AgentTimeout { get; init; } = TimeSpan.FromMinutes(15);

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    public string ResourceType => Type;

    public Task<ArmErrorDetail?> ValidateAsync(ResourceDeployment resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        JsonNode? properties = NetworkTypes.Member(resource.Body, "properties");
        string publisher = NetworkTypes.Text(properties, "publisher") ?? "";
        string type = NetworkTypes.Text(properties, "type") ?? "";
        bool attestation = Publishers.Contains(publisher, StringComparer.OrdinalIgnoreCase) && type.Equals("GuestAttestation", StringComparison.OrdinalIgnoreCase);
        return Task.FromResult<ArmErrorDetail?>(attestation ? null : new ArmErrorDetail
        {
            Code = "VMExtensionNotSupported",
            Message = $"The VM extension '{publisher}.{type}' ({resource.Name}) is not supported: this platform accepts only the guest attestation extension " +
                "(publisher Microsoft.Azure.Security.LinuxAttestation or Microsoft.Azure.Security.WindowsAttestation, type GuestAttestation), which its guest agent provides.",
            Target = "properties.publisher",
        });
    }

    public async Task<ResourceDeploymentResult> DeployAsync(ResourceDeployment resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (await ValidateAsync(resource, cancellationToken) is ArmErrorDetail refused)
            return ResourceDeploymentResult.Failed(new ArmFailure(ArmErrors.BadRequest, refused));
        string vmName = resource.Name.Split('/')[0];
        ArmResult<VirtualMachineRecord> found = await vms.GetAsync(new VirtualMachineKey(resource.SubscriptionId, resource.ResourceGroup, vmName), cancellationToken);
        if (found.Failure is ArmFailure missing)
            return ResourceDeploymentResult.Failed(missing);
        VirtualMachineRecord vm = found.Value!;
        if (!VirtualMachineLifecycle.HasVTpm(vm) || vm.Model.Properties.SecurityProfile?.UefiSettings?.SecureBootEnabled != true)
        {
            return ResourceDeploymentResult.Failed(ArmErrors.OperationNotAllowed(
                $"The guest attestation extension needs a Trusted Launch VM with Secure Boot and vTPM on; '{vm.Name}' is not one.", "properties.type"));
        }

        NetworkResourceRecord? previous = await resources.GetAsync(resource.SubscriptionId, resource.ResourceGroup, Type, resource.Name, cancellationToken);
        string body = new JsonObject { ["desired"] = NetworkTypes.Member(resource.Body, "properties")?.DeepClone(), ["computed"] = new JsonObject() }.ToJsonString();
        bool unchanged = previous is not null && previous.BodyJson == body;
        if (!unchanged)
        {
            var record = new NetworkResourceRecord
            {
                SubscriptionId = resource.SubscriptionId,
                ResourceGroup = resource.ResourceGroup,
                Type = Type,
                Name = resource.Name,
                Location = vm.Location,
                Version = (previous?.Version ?? 0) + 1,
                BodyJson = body,
                ChangedAt = time.GetUtcNow(),
            };
            if (await resources.SaveAsync(record, previous?.Version, cancellationToken) != WriteOutcome.Written)
                return ResourceDeploymentResult.Failed(ArmErrors.AnotherOperationInProgress(resource.Name));
        }

        DateTimeOffset deadline = time.GetUtcNow() + AgentTimeout;
        while (await attestations.GetLatestAsync(vm.VmId, cancellationToken) is null)
        {
            if (time.GetUtcNow() > deadline)
            {
                return ResourceDeploymentResult.Failed(ArmErrors.Fail(ArmErrors.Conflict, "VMAgentStatusCommunicationError",
                    $"VM '{vm.Name}' has not reported status for the guest attestation extension: its guest agent has not answered within {AgentTimeout.TotalMinutes:0} minutes."));
            }

            await Task.Delay(PollInterval, time, cancellationToken);
        }

        return new ResourceDeploymentResult
        {
            State = (await GetStateAsync(resource.SubscriptionId, resource.ResourceGroup, resource.Name, cancellationToken))!,
            Created = previous is null,
            Unchanged = unchanged,
        };
    }

    public async Task<JsonObject?> GetStateAsync(string subscriptionId, string resourceGroup, string name, CancellationToken cancellationToken)
    {
        NetworkResourceRecord? record = await resources.GetAsync(subscriptionId, resourceGroup, Type, name, cancellationToken);
        if (record is null)
            return null;
        string vmName = name.Split('/')[0];
        VirtualMachineRecord? vm = (await vms.GetAsync(new VirtualMachineKey(subscriptionId, resourceGroup, vmName), cancellationToken)).Value;
        bool answered = vm is not null && await attestations.GetLatestAsync(vm.VmId, cancellationToken) is not null;
        var properties = JsonNode.Parse(record.BodyJson)!["desired"]?.DeepClone() as JsonObject ?? [];
        properties["provisioningState"] = answered ? "Succeeded" : "Creating";
        return new JsonObject
        {
            ["id"] = $"{Arm.ResourceIds.VirtualMachine(subscriptionId, resourceGroup, vmName)}/extensions/{name.Split('/')[^1]}",
            ["name"] = name.Split('/')[^1],
            ["type"] = Type,
            ["location"] = record.Location,
            ["properties"] = properties,
        };
    }
}
