namespace TrustedLaunch.Pe.Authenticode;

/// <summary>What is wrong with a PE image or its Authenticode signature.</summary>
public enum AuthenticodeFailure
{
    /// <summary>The PE/COFF headers, sections or data directories are malformed or point outside the file.</summary>
    MalformedImage,

    /// <summary>The attribute certificate table (WIN_CERTIFICATE entries) is malformed.</summary>
    MalformedCertificateTable,

    /// <summary>The PKCS#7 SignedData or its SpcIndirectDataContent is malformed.</summary>
    MalformedSignature,

    /// <summary>The signature names a digest algorithm the firmware does not implement.</summary>
    UnsupportedAlgorithm,
}

/// <summary>The one exception family of the PE/Authenticode parsers: malformed or unsupported input, never a crash.</summary>
public sealed class AuthenticodeException : Exception
{
    public AuthenticodeException()
    {
    }

    public AuthenticodeException(string message)
        : base(message)
    {
    }

    public AuthenticodeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public AuthenticodeException(AuthenticodeFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
    }

    public AuthenticodeFailure Failure { get; }

    /// <summary>File offset the problem was found at, or -1.</summary>
    public long Offset { get; init; } = -1;
}
