namespace TrustedLaunch.ControlPlane.State;

/// <summary>A resource's <c>provisioningState</c>: Creating/Updating/Deleting are non-terminal, Succeeded/Failed terminal.</summary>
public enum ProvisioningState
{
    Creating,
    Updating,
    Succeeded,
    Failed,
    Deleting,
}

/// <summary>What a VM's owner asked for: the state a host converges the VM to.</summary>
public enum DesiredPowerState
{
    Running,

    /// <summary>Powered off, still allocated on its host (Azure's "Stopped (allocated)").</summary>
    Stopped,

    /// <summary>Powered off and not counted against its host's capacity; it stays placed on that host (its VM guest state is there).</summary>
    Deallocated,
}

/// <summary>What a VM's host last reported (Azure's <c>PowerState/…</c> codes).</summary>
public enum PowerState
{
    Starting,
    Running,
    Stopping,
    Stopped,
    Deallocating,
    Deallocated,

    /// <summary>The VM's host has not been heard from within the liveness window: its VMs are unknown, not stopped.</summary>
    Unknown,
}

/// <summary>An operation's <c>status</c>; all but InProgress are terminal.</summary>
public enum OperationStatus
{
    InProgress,
    Succeeded,
    Failed,
    Canceled,
}

public enum OperationKind
{
    Create,
    Update,
    Start,
    PowerOff,
    Deallocate,
    Restart,
    Delete,
    DeleteResourceGroup,

    /// <summary><c>POST …/x-tl-updateSecureBootKeys</c>: KEK/db/dbx rewritten in the VM's VMGS by its host.</summary>
    UpdateSecureBootKeys,
}

/// <summary>A resource group's <c>provisioningState</c>.</summary>
public enum ResourceGroupState
{
    Succeeded,
    Deleting,
}

/// <summary>How a host runs its VMs.</summary>
public enum HostAccelerator
{
    Kvm,
    Tcg,
}
