namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// Carries one complete TPM 2.0 command (header included) to a TPM and returns its complete response.
/// Implemented by the device, swtpm-socket and simulator transports, and by an in-process libtpms engine.
/// </summary>
public interface ITpmTransport : IDisposable
{
    /// <summary>Sends <paramref name="command"/> and returns the TPM's response bytes.</summary>
    /// <exception cref="TpmTransportException">The channel failed (closed, short read, timeout).</exception>
    byte[] Execute(ReadOnlySpan<byte> command);
}

/// <summary>The channel to the TPM failed; the command may or may not have executed.</summary>
public class TpmTransportException : Exception
{
    public TpmTransportException() { }

    public TpmTransportException(string message) : base(message) { }

    public TpmTransportException(string message, Exception innerException) : base(message, innerException) { }
}
