namespace TrustedLaunch.HostAgent.Lifecycle;

/// <summary>A lifecycle verb (snapshot, restore, copy) was refused or failed; <see cref="Code"/> is what a host reports.</summary>
public sealed class VmLifecycleException : Exception
{
    public const string VmRunning = "OperationNotAllowed";
    public const string NotFound = "NotFound";
    public const string IntegrityFailed = "SnapshotIntegrityFailed";
    public const string OtherVm = "SnapshotOfAnotherVirtualMachine";
    public const string Exists = "Conflict";

    /// <summary>A snapshot's VMGS does not open or authenticate (Azure's "vTPM state is locked"): no VM is made from it.</summary>
    public const string VTpmStateLocked = "VTpmStateLocked";

    public VmLifecycleException() : this("LifecycleFailed", "The lifecycle operation failed.") { }

    public VmLifecycleException(string message) : this("LifecycleFailed", message) { }

    public VmLifecycleException(string message, Exception innerException) : this("LifecycleFailed", message, innerException) { }

    public VmLifecycleException(string code, string message, Exception? innerException = null) : base(message, innerException) => Code = code;

    public string Code { get; }
}
