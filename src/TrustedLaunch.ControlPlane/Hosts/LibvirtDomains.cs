using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Hosts;

/// <summary>
/// <c>PUT /v1/hosts/{host}/libvirtDomains/{domainUuid}</c>: a host's agent registers a libvirt domain it attests
/// (<c>tl host --libvirt-domain</c>), read from <c>virsh dumpxml</c>. Sent again at every start of the agent (and whenever the domain's
/// power state changes): the same domain on the same host updates its record.
/// </summary>
public sealed record LibvirtDomainRegistration
{
    public string? DomainName { get; init; }

    public string? ConnectionUri { get; init; }

    public string? AgentSocket { get; init; }

    /// <summary>Where the VM resource goes; the default subscription when absent. The resource group must exist and grant the host (<see cref="HostGrants"/>).</summary>
    public string? SubscriptionId { get; init; }

    public string? ResourceGroup { get; init; }

    public int? VCpus { get; init; }

    public int? MemoryInMB { get; init; }

    /// <summary>Running or Stopped (libvirt's state: running, or anything else).</summary>
    public string? PowerState { get; init; }

    /// <summary>The domain has <c>&lt;os firmware='efi'&gt;</c> with the <c>secure-boot</c> feature (or a secure loader).</summary>
    public bool? SecureBootEnabled { get; init; }
}

/// <summary>What the host learns back: the VM resource it now attests for, and how often.</summary>
public sealed record LibvirtDomainRegistered(string ResourceId, Guid VmId, int AttestationIntervalSeconds);

/// <summary>
/// VMs another manager runs (<see cref="ExternallyManagedVm"/>): registered by the host that attests them, shown as
/// <c>Microsoft.Compute/virtualMachines</c> resources like any other, never assigned to the host to run. Power operations and
/// updates are refused with <c>OperationNotAllowed</c>; DELETE removes the resource (and its attestation enrollment) only.
/// </summary>
public sealed class LibvirtDomainService(
    IHostStore hosts,
    ISubscriptionStore subscriptions,
    IResourceGroupStore groups,
    IVirtualMachineStore machines,
    IAttestationEnrollment enrollment,
    TimeProvider time)
{
    public const string Manager = "libvirt";

    public async Task<ArmResult<LibvirtDomainRegistered>> RegisterAsync(string hostName, string domainUuid, LibvirtDomainRegistration registration,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (await hosts.GetAsync(hostName, cancellationToken) is not HostRecord host)
            return ArmErrors.Fail(ArmErrors.NotFound, "HostNotFound", $"No host is registered as '{hostName}' (PUT /v1/hosts/{hostName} registers it).");
        var errors = new List<ArmErrorDetail>();
        if (!Guid.TryParse(domainUuid, out Guid vmId) || vmId == Guid.Empty)
            errors.Add(Invalid($"'{domainUuid}' is not a libvirt domain UUID.", "domainUuid"));
        if (ArmNames.CheckVirtualMachine(registration.DomainName ?? "") is not null)
            errors.Add(Invalid($"The domain name '{registration.DomainName}' is not a valid VM name (1-64 letters, digits, '-', '_' or '.').", "domainName"));
        if (string.IsNullOrEmpty(registration.ResourceGroup) || ArmNames.CheckResourceGroup(registration.ResourceGroup) is not null)
            errors.Add(Invalid("resourceGroup must name an existing resource group (tl host --libvirt-resource-group).", "resourceGroup"));
        if (registration.VCpus is not (>= 1 and <= 4096) || registration.MemoryInMB is not (>= 1 and <= 64 * 1024 * 1024))
            errors.Add(Invalid("vCpus (1-4096) and memoryInMB are required: the domain's <vcpu> and <memory>.", "vCpus"));
        if (registration.PowerState is not ("Running" or "Stopped"))
            errors.Add(Invalid("powerState must be Running or Stopped.", "powerState"));
        if (errors.Count > 0)
            return ArmFailure.FromViolations(ArmErrors.BadRequest, errors);

        string subscriptionId = registration.SubscriptionId ?? (await subscriptions.EnsureDefaultAsync(time.GetUtcNow(), cancellationToken)).SubscriptionId;
        ResourceGroupRecord? group = await groups.GetAsync(subscriptionId, registration.ResourceGroup!, cancellationToken);
        if (group is null)
            return ArmErrors.ResourceGroupNotFound(registration.ResourceGroup!);
        if (group.State == ResourceGroupState.Deleting)
            return ArmErrors.ResourceGroupBeingDeleted(group.Name);
        if (HostGrants.Check(group, host.Name, "Microsoft.Compute/virtualMachines/write") is ArmFailure forbidden)
            return forbidden;
        var key = new VirtualMachineKey(subscriptionId, group.Name, registration.DomainName!);
        for (int attempt = 0; attempt < 5; attempt++)
        {
            VirtualMachineRecord? byId = await machines.GetByVmIdAsync(vmId, cancellationToken);
            VirtualMachineRecord? byName = await machines.GetAsync(key, cancellationToken);
            if (byId is not null && (External(byId) is not { } managed || !managed.HostName.Equals(host.Name, StringComparison.OrdinalIgnoreCase)
                    || byName?.VmId != vmId))
            {
                return ArmErrors.Fail(ArmErrors.Conflict, "Conflict",
                    $"VM id {vmId} is already {byId.ResourceId}{(External(byId) is { } other ? $", a libvirt domain of host {other.HostName}" : "")}: a libvirt domain is registered once, by the host it runs on.");
            }

            if (byId is null && byName is not null)
                return ArmErrors.Fail(ArmErrors.Conflict, "Conflict", $"{byName.ResourceId} exists and is another VM (vmId {byName.VmId}); rename the domain or pick another resource group.");

            VirtualMachineRecord record = Record(key, vmId, group.Location, host.Name, registration, byId);
            if (byId is not null && record.Model == byId.Model && record.ActualPower == byId.ActualPower && record.VCpus == byId.VCpus
                && record.MemoryInMB == byId.MemoryInMB)
                return ArmResult.Ok(new LibvirtDomainRegistered(byId.ResourceId, vmId, VmPlanner.DefaultAttestationIntervalSeconds)); // nothing changed
            WriteOutcome outcome = await machines.WriteAsync(new VirtualMachineWrite { Key = key, Record = record, ExpectedSequence = byId?.ChangeSequence },
                cancellationToken);
            if (outcome == WriteOutcome.Written)
            {
                if (byId is null)
                    await enrollment.EnrollAsync(vmId, referencePolicy: null, cancellationToken);
                return ArmResult.Ok(new LibvirtDomainRegistered(record.ResourceId, vmId, VmPlanner.DefaultAttestationIntervalSeconds));
            }

            if (outcome is WriteOutcome.ResourceGroupMissing)
                return ArmErrors.ResourceGroupNotFound(registration.ResourceGroup!);
            if (outcome is WriteOutcome.ResourceGroupDeleting)
                return ArmErrors.ResourceGroupBeingDeleted(group.Name);
        }

        return ArmErrors.AnotherOperationInProgress(ResourceIds.VirtualMachine(key.SubscriptionId, key.ResourceGroup, key.Name));
    }

    /// <summary>The VM's manager when another one runs it (null: this platform runs it).</summary>
    public static ExternallyManagedVm? External(VirtualMachineRecord vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return vm.Model.Properties.TrustedLaunchExtensions?.ExternallyManaged;
    }

    /// <summary>Azure's <c>OperationNotAllowed</c> for a verb this platform cannot do to a VM another manager runs; null for its own VMs.</summary>
    public static ArmFailure? Refusal(VirtualMachineRecord vm, string operation)
    {
        if (External(vm) is not { } managed)
            return null;
        return ArmErrors.OperationNotAllowed(
            $"Operation '{operation}' is not allowed on virtual machine {vm.Name} since it is managed by {managed.Manager} on host {managed.HostName} " +
            $"(domain '{managed.DomainName}', {managed.DomainUuid}): start, stop and change it there (virsh start|shutdown|destroy|edit). " +
            "This control plane attests it; DELETE removes it from the control plane only, never the domain.");
    }

    private VirtualMachineRecord Record(VirtualMachineKey key, Guid vmId, string location, string hostName, LibvirtDomainRegistration sent, VirtualMachineRecord? previous)
    {
        DateTimeOffset now = time.GetUtcNow();
        PowerState power = sent.PowerState == "Running" ? PowerState.Running : PowerState.Stopped;
        var model = new VirtualMachineModel
        {
            Tags = previous?.Model.Tags,
            Properties = new VirtualMachineProperties
            {
                SecurityProfile = new SecurityProfile
                {
                    SecurityType = VmPlanner.TrustedLaunch,
                    UefiSettings = new UefiSettings { SecureBootEnabled = sent.SecureBootEnabled ?? false, VTpmEnabled = true },
                },
                TrustedLaunchExtensions = new TrustedLaunchExtensions
                {
                    AttestationIntervalSeconds = VmPlanner.DefaultAttestationIntervalSeconds,
                    ExternallyManaged = new ExternallyManagedVm
                    {
                        Manager = Manager, HostName = hostName, DomainName = key.Name, DomainUuid = vmId.ToString(),
                        ConnectionUri = sent.ConnectionUri, AgentSocket = sent.AgentSocket,
                    },
                },
            },
        };
        return new VirtualMachineRecord
        {
            SubscriptionId = key.SubscriptionId,
            ResourceGroup = key.ResourceGroup,
            Name = key.Name,
            VmId = vmId,
            Location = previous?.Location ?? location,
            Version = (previous?.Version ?? 0) + 1,
            Model = model,
            ProvisioningState = ProvisioningState.Succeeded,
            DesiredPower = power == PowerState.Running ? DesiredPowerState.Running : DesiredPowerState.Stopped,
            ActualPower = power,
            HostName = hostName,
            VCpus = sent.VCpus!.Value,
            MemoryInMB = sent.MemoryInMB!.Value,
            Generation = HyperVGeneration.V2,
            RestartGeneration = 0,
            AttestationGeneration = previous?.AttestationGeneration ?? 0,
            TimeCreated = previous?.TimeCreated ?? now,
            LastReport = new VmHostReport { ReportedAt = now },
        };
    }

    private static ArmErrorDetail Invalid(string message, string target) => new() { Code = "InvalidParameter", Message = message, Target = target };
}
