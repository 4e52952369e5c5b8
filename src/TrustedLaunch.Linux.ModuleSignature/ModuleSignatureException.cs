namespace TrustedLaunch.Linux.ModuleSignature;

/// <summary>The one exception family of the module-signature and kernel-image parsers: malformed input, never a crash.</summary>
public sealed class ModuleSignatureException : Exception
{
    public ModuleSignatureException()
    {
    }

    public ModuleSignatureException(string message)
        : base(message)
    {
    }

    public ModuleSignatureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
