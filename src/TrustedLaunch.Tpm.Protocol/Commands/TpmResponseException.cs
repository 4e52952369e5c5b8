namespace TrustedLaunch.Tpm.Protocol;

/// <summary>The TPM executed a command and answered with a non-success <see cref="TpmRc"/>.</summary>
public class TpmResponseException : Exception
{
    public TpmResponseException() : this(TpmRc.Failure, default) { }

    public TpmResponseException(string message) : base(message) { }

    public TpmResponseException(string message, Exception innerException) : base(message, innerException) { }

    public TpmResponseException(TpmRc responseCode, TpmCc command)
        : base($"TPM2_{command} failed: {responseCode.Describe()}")
    {
        ResponseCode = responseCode;
        Command = command;
    }

    public TpmRc ResponseCode { get; }

    public TpmCc Command { get; }
}
