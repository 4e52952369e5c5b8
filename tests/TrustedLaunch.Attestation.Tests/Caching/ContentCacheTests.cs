namespace TrustedLaunch.Attestation.Tests.Caching;

public sealed class ContentCacheTests
{
    [Fact]
    public void TryGet_OnlyTheSameBytesUnderTheSameTag_Hit()
    {
        var cache = new ContentCache<string>(maxEntries: 16, maxTotalBytes: 4096, maxContentBytes: 1024);
        byte[] content = [1, 2, 3, 4, 5, 6, 7, 8];
        cache.Add(7, content, "seven");

        Assert.True(cache.TryGet(7, (byte[])content.Clone(), out string? hit));
        Assert.Equal("seven", hit);
        Assert.False(cache.TryGet(8, content, out _));
        byte[] sameLengthOtherByte = (byte[])content.Clone();
        sameLengthOtherByte[^1] ^= 1;
        Assert.False(cache.TryGet(7, sameLengthOtherByte, out _));
        Assert.False(cache.TryGet(7, content.AsSpan(0, 7), out _));
    }

    [Fact]
    public void Add_KeepsACopy_CallerMayReuseItsBuffer()
    {
        var cache = new ContentCache<string>(maxEntries: 16, maxTotalBytes: 4096, maxContentBytes: 1024);
        byte[] buffer = [9, 9, 9];
        cache.Add(0, buffer, "nines");
        buffer[0] = 1;

        Assert.False(cache.TryGet(0, buffer, out _));
        Assert.True(cache.TryGet(0, [9, 9, 9], out _));
    }

    [Fact]
    public void Add_OverTheBounds_RemembersNothingTooLargeAndEmptiesWhenFull()
    {
        var cache = new ContentCache<string>(maxEntries: 2, maxTotalBytes: 1024, maxContentBytes: 4);
        cache.Add(0, [1, 2, 3, 4, 5], "large");
        Assert.False(cache.TryGet(0, [1, 2, 3, 4, 5], out _));

        cache.Add(0, [1], "a");
        cache.Add(0, [2], "b");
        cache.Add(0, [3], "c"); // full: emptied first
        Assert.False(cache.TryGet(0, [1], out _));
        Assert.True(cache.TryGet(0, [3], out _));

        var bytesBound = new ContentCache<string>(maxEntries: 100, maxTotalBytes: 8, maxContentBytes: 4);
        bytesBound.Add(0, [1, 1, 1, 1], "a");
        bytesBound.Add(0, [2, 2, 2, 2], "b");
        bytesBound.Add(0, [3, 3, 3], "c"); // 11 bytes would exceed 8: emptied first
        Assert.False(bytesBound.TryGet(0, [1, 1, 1, 1], out _));
        Assert.True(bytesBound.TryGet(0, [3, 3, 3], out _));
    }
}
