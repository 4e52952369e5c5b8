using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

/// <summary>
/// A Linux TPM character device: <c>/dev/tpmrm0</c> (kernel resource manager, the default: transient objects and
/// sessions are virtualised per open file) or <c>/dev/tpm0</c> (raw, one user at a time). The driver takes one whole
/// command per write and returns one whole response per read.
/// </summary>
public sealed class TpmDeviceTransport : ITpmTransport
{
    public const string ResourceManagerPath = "/dev/tpmrm0";
    public const string RawPath = "/dev/tpm0";

    private readonly FileStream _device;

    public TpmDeviceTransport(string path = ResourceManagerPath)
    {
        try
        {
            _device = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TpmTransportException($"Cannot open TPM device {path}: {e.Message}", e);
        }

        Path = path;
    }

    public string Path { get; }

    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        try
        {
            _device.Write(command);
            var buffer = new byte[TpmResponseFraming.MaxResponseSize];
            int n = _device.Read(buffer);
            if (n < TpmResponse.HeaderSize)
                throw new TpmTransportException($"{Path} returned {n} bytes; a TPM response has at least 10.");
            return buffer[..n];
        }
        catch (IOException e)
        {
            throw new TpmTransportException($"I/O on {Path} failed: {e.Message}", e);
        }
    }

    public void Dispose() => _device.Dispose();
}
