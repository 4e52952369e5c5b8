namespace TrustedLaunch.Interop.Swtpm;

/// <summary>
/// A command line that the swtpm-compatible surface cannot honour: unknown, malformed, or a swtpm option this vTPM
/// does not implement (named, so the caller — usually libvirt's log — says what to change).
/// </summary>
public sealed class SwtpmArgumentException : Exception
{
    public SwtpmArgumentException() { }

    public SwtpmArgumentException(string message) : base(message) { }

    public SwtpmArgumentException(string message, Exception innerException) : base(message, innerException) { }
}
