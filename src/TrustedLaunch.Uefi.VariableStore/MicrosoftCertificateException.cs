namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>An embedded Microsoft certificate is missing or is not the pinned one: the assembly was tampered with or mis-built.</summary>
public sealed class MicrosoftCertificateException : Exception
{
    public MicrosoftCertificateException() { }

    public MicrosoftCertificateException(string message) : base(message) { }

    public MicrosoftCertificateException(string message, Exception innerException) : base(message, innerException) { }
}
