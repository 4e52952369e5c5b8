using System.Buffers.Binary;
using System.Text;
using TrustedLaunch.GuestChannel.Framing;

namespace TrustedLaunch.GuestChannel.Tests.Framing;

public sealed class GuestFrameTests
{
    [Fact]
    public void Encode_ThenTryDecode_RoundTripsAndConsumesExactlyOneFrame()
    {
        byte[] payload = Encoding.UTF8.GetBytes("""{"type":"ping","id":1}""");
        byte[] two = [.. GuestFrame.Encode(payload), .. GuestFrame.Encode("{}"u8)];
        Assert.Equal((uint)payload.Length, BinaryPrimitives.ReadUInt32BigEndian(two));
        Assert.True(GuestFrame.TryDecode(two, out ReadOnlySpan<byte> first, out int consumed));
        Assert.Equal(payload, first.ToArray());
        Assert.Equal(4 + payload.Length, consumed);
        Assert.True(GuestFrame.TryDecode(two.AsSpan(consumed), out ReadOnlySpan<byte> second, out _));
        Assert.Equal("{}", Encoding.UTF8.GetString(second));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(10)]
    public void TryDecode_IncompleteFrame_ReturnsFalseAndConsumesNothing(int keep)
    {
        byte[] frame = GuestFrame.Encode("""{"type":"ping","id":7}"""u8);
        Assert.False(GuestFrame.TryDecode(frame.AsSpan(0, keep), out _, out int consumed));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void TryDecode_LengthAboveLimit_ThrowsOversized()
    {
        byte[] header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, GuestFrame.MaxPayloadBytes + 1u);
        var e = Assert.Throws<GuestChannelException>(() => GuestFrame.TryDecode(header, out _, out _));
        Assert.Equal(GuestChannelError.Oversized, e.Error);
    }

    [Fact]
    public void TryDecode_ZeroLength_ThrowsEmptyFrame()
    {
        var e = Assert.Throws<GuestChannelException>(() => GuestFrame.TryDecode(new byte[8], out _, out _));
        Assert.Equal(GuestChannelError.EmptyFrame, e.Error);
    }

    [Fact]
    public void Encode_PayloadAboveLimit_ThrowsOversized()
    {
        var e = Assert.Throws<GuestChannelException>(() => GuestFrame.Encode(new byte[GuestFrame.MaxPayloadBytes + 1]));
        Assert.Equal(GuestChannelError.Oversized, e.Error);
    }

    [Fact]
    public async Task ReadAsync_FramesWrittenByWriteAsync_ComeBackInOrderThenNullAtEnd()
    {
        using var buffer = new MemoryStream();
        await using (var writer = new GuestFrameChannel(buffer, ownsStream: false))
        {
            await writer.WriteAsync("""{"a":1}"""u8.ToArray());
            await writer.WriteAsync(new byte[GuestFrame.MaxPayloadBytes]); // the largest frame passes
        }

        buffer.Position = 0;
        await using var reader = new GuestFrameChannel(buffer, ownsStream: false);
        Assert.Equal("""{"a":1}""", Encoding.UTF8.GetString((await reader.ReadAsync())!));
        Assert.Equal(GuestFrame.MaxPayloadBytes, (await reader.ReadAsync())!.Length);
        Assert.Null(await reader.ReadAsync());
    }

    [Theory]
    [InlineData(2)]   // inside the header
    [InlineData(9)]   // inside the payload
    public async Task ReadAsync_StreamEndsInsideFrame_ThrowsTruncated(int keep)
    {
        byte[] frame = GuestFrame.Encode("""{"type":"ping","id":7}"""u8);
        await using var reader = new GuestFrameChannel(new MemoryStream(frame[..keep]));
        var e = await Assert.ThrowsAsync<GuestChannelException>(async () => await reader.ReadAsync());
        Assert.Equal(GuestChannelError.Truncated, e.Error);
    }

    [Fact]
    public async Task ReadAsync_GarbageHeader_ThrowsOversizedWithoutAllocatingIt()
    {
        await using var reader = new GuestFrameChannel(new MemoryStream("GET / HTTP/1.1\r\n"u8.ToArray()));
        var e = await Assert.ThrowsAsync<GuestChannelException>(async () => await reader.ReadAsync());
        Assert.Equal(GuestChannelError.Oversized, e.Error); // "GET " = 0x47455420 bytes
    }
}
