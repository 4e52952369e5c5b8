using System.Buffers.Binary;
using System.Globalization;

namespace TrustedLaunch.GuestChannel.Framing;

/// <summary>
/// Reads and writes <see cref="GuestFrame"/>s on a byte stream (a virtio-serial port or a Unix socket). Reads are
/// sequential (one reader); writes are serialized so a heartbeat never interleaves with an evidence frame.
/// </summary>
public sealed class GuestFrameChannel : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public GuestFrameChannel(Stream stream, bool ownsStream = true)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        _ownsStream = ownsStream;
    }

    /// <summary>The next payload; null when the stream ends cleanly between frames.</summary>
    public async ValueTask<byte[]?> ReadAsync(CancellationToken cancellationToken = default)
    {
        var header = new byte[GuestFrame.HeaderBytes];
        int got = await FillAsync(header, cancellationToken).ConfigureAwait(false);
        if (got == 0)
            return null;
        if (got < header.Length)
        {
            throw new GuestChannelException(GuestChannelError.Truncated,
                string.Create(CultureInfo.InvariantCulture, $"Stream ended after {got} of the {GuestFrame.HeaderBytes} header bytes."));
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(header);
        GuestFrame.ValidateLength(length);
        var payload = new byte[length];
        got = await FillAsync(payload, cancellationToken).ConfigureAwait(false);
        if (got < payload.Length)
        {
            throw new GuestChannelException(GuestChannelError.Truncated,
                string.Create(CultureInfo.InvariantCulture, $"Stream ended after {got} of the {length} payload bytes."));
        }

        return payload;
    }

    /// <summary>Writes one frame (header and payload in one write) and flushes.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        byte[] frame = GuestFrame.Encode(payload.Span);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async ValueTask<int> FillAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await _stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
                break;
            total += n;
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        _writeGate.Dispose();
        if (_ownsStream)
            await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
