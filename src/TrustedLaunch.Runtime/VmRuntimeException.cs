namespace TrustedLaunch.Runtime;

/// <summary>What kind of problem stopped a VM from being launched or supervised.</summary>
public enum VmRuntimeFailure
{
    /// <summary>The request itself is wrong: a missing disk, a bad size, conflicting options.</summary>
    BadInput,

    /// <summary>The machine lacks something: QEMU, OVMF, the vTPM program, a usable socket path.</summary>
    Environment,

    /// <summary>A component started but failed: the vTPM never became ready, QEMU refused its command line.</summary>
    ComponentFailed,

    /// <summary>
    /// The vTPM refused its state (tl-vtpm exit 4: tampered, wrong key, malformed, not libtpms state) and was not started:
    /// a vTPM is never re-manufactured behind the guest's back, so the VM does not start (Azure's "vTPM state is locked").
    /// </summary>
    VTpmStateRefused,
}

/// <summary>The one exception family of the runtime; <see cref="Failure"/> says whose fault it is.</summary>
public sealed class VmRuntimeException : Exception
{
    public VmRuntimeException() : this(VmRuntimeFailure.ComponentFailed, "VM runtime failure.") { }

    public VmRuntimeException(string message) : this(VmRuntimeFailure.ComponentFailed, message) { }

    public VmRuntimeException(string message, Exception innerException) : this(VmRuntimeFailure.ComponentFailed, message, innerException) { }

    public VmRuntimeException(VmRuntimeFailure failure, string message, Exception? innerException = null)
        : base(message, innerException) => Failure = failure;

    public VmRuntimeFailure Failure { get; }
}
