namespace TrustedLaunch.Tpm.Protocol;

/// <summary>Bytes that claim to be a TPM 2.0 structure are malformed: truncated, oversized, or carry an undefined selector.</summary>
public class TpmFormatException : Exception
{
    public TpmFormatException() { }

    public TpmFormatException(string message) : base(message) { }

    public TpmFormatException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Byte offset into the parsed buffer where the problem was found, or -1 when unknown.</summary>
    public int Offset { get; init; } = -1;
}
