namespace TrustedLaunch.Vmgs.Format;

/// <summary>The base of every VMGS failure: catch this to handle any unreadable guest-state file.</summary>
public abstract class VmgsException : Exception
{
    protected VmgsException() { }

    protected VmgsException(string message) : base(message) { }

    protected VmgsException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// The bytes are not a well-formed VMGS file: bad magic, unsupported version, impossible sizes, extents that
/// overlap or point past the end. A structural problem, found without any key.
/// </summary>
public sealed class VmgsFormatException : VmgsException
{
    public VmgsFormatException() { }

    public VmgsFormatException(string message) : base(message) { }

    public VmgsFormatException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// The structure is fine but integrity failed: a header checksum or MAC, an entry's AES-GCM tag, or the key:
/// the file was torn, corrupted, tampered with, or is being opened with the wrong key-encryption key.
/// </summary>
public sealed class VmgsIntegrityException : VmgsException
{
    public VmgsIntegrityException() { }

    public VmgsIntegrityException(string message) : base(message) { }

    public VmgsIntegrityException(string message, Exception innerException) : base(message, innerException) { }
}
