namespace TrustedLaunch.VTpm.State;

/// <summary>Why a vTPM's stored state cannot be used. A vTPM never starts (or manufactures) over any of these.</summary>
public enum VTpmStateFailure
{
    /// <summary>No state exists: the TPM was never manufactured (or the file was removed).</summary>
    Missing,
    /// <summary>The state file is shorter than its header says.</summary>
    Truncated,
    /// <summary>The state file was modified (authentication failed).</summary>
    Tampered,
    /// <summary>The key given is not the key the state was sealed with.</summary>
    WrongKey,
    /// <summary>The decrypted content is not a vTPM state image, or libtpms rejected it.</summary>
    Malformed,
    /// <summary>The state was written by a newer libtpms than the one loaded.</summary>
    NewerLibtpms,
    /// <summary>The state could not be read or written (I/O).</summary>
    Unavailable,
}

/// <summary>The vTPM state cannot be used; <see cref="Failure"/> says why, the message says what to do.</summary>
public sealed class VTpmStateException : Exception
{
    public VTpmStateException() : this(VTpmStateFailure.Malformed, "the vTPM state cannot be used") { }

    public VTpmStateException(string message) : this(VTpmStateFailure.Malformed, message) { }

    public VTpmStateException(string message, Exception innerException) : this(VTpmStateFailure.Malformed, message, innerException) { }

    public VTpmStateException(VTpmStateFailure failure, string message, Exception? innerException = null)
        : base(message, innerException) => Failure = failure;

    public VTpmStateFailure Failure { get; }
}
