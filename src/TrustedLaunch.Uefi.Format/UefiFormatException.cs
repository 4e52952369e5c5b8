namespace TrustedLaunch.Uefi.Format;

/// <summary>UEFI data (signature lists, variables, device paths, variable stores) is malformed.</summary>
public class UefiFormatException : Exception
{
    public UefiFormatException() { }

    public UefiFormatException(string message) : base(message) { }

    public UefiFormatException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Byte offset within the parsed input where the problem was found, or -1 when unknown.</summary>
    public long Offset { get; init; } = -1;
}
