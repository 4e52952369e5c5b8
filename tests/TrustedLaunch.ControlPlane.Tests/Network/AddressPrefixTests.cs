using TrustedLaunch.ControlPlane.Network;

namespace TrustedLaunch.ControlPlane.Tests.Network;

public class AddressPrefixTests
{
    [Theory]
    [InlineData("10.0.0.0/16")]
    [InlineData("10.1.0.0/24")]
    [InlineData("0.0.0.0/0")]
    [InlineData("192.168.1.7/32")]
    [InlineData("fd00::/8")]
    public void TryParse_Canonical_Parses(string text)
    {
        Assert.True(AddressPrefix.TryParse(text, out AddressPrefix prefix, out string? canonical));
        Assert.Null(canonical);
        Assert.Equal(text, prefix.ToString());
    }

    [Theory]
    [InlineData("10.0.0.1/16", "10.0.0.0/16")]
    [InlineData("10.1.2.3/8", "10.0.0.0/8")]
    public void TryParse_HostBitsSet_SaysTheCanonicalForm(string text, string expected)
    {
        Assert.False(AddressPrefix.TryParse(text, out _, out string? canonical));
        Assert.Equal(expected, canonical);
    }

    [Theory]
    [InlineData("10.0.0/16")]
    [InlineData("10.0.0.0")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("not-an-address/8")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParse_Malformed_Fails(string? text)
    {
        Assert.False(AddressPrefix.TryParse(text, out _, out string? canonical));
        Assert.Null(canonical);
    }

    [Theory]
    [InlineData("10.1.0.0/16", "10.1.0.0/24", true)]
    [InlineData("10.1.0.0/16", "10.1.255.0/24", true)]
    [InlineData("10.1.0.0/16", "10.2.0.0/24", false)]
    [InlineData("10.1.0.0/24", "10.1.0.0/16", false)]
    [InlineData("10.1.0.0/16", "fd00::/64", false)]
    public void Contains_NestsByPrefix(string outer, string inner, bool expected)
    {
        Assert.True(AddressPrefix.TryParse(outer, out AddressPrefix a, out _));
        Assert.True(AddressPrefix.TryParse(inner, out AddressPrefix b, out _));
        Assert.Equal(expected, a.Contains(b));
    }

    [Fact]
    public void Overlaps_EitherWay()
    {
        Assert.True(AddressPrefix.TryParse("10.0.0.0/24", out AddressPrefix a, out _));
        Assert.True(AddressPrefix.TryParse("10.0.0.128/25", out AddressPrefix b, out _));
        Assert.True(AddressPrefix.TryParse("10.0.1.0/24", out AddressPrefix c, out _));
        Assert.True(a.Overlaps(b) && b.Overlaps(a));
        Assert.False(a.Overlaps(c));
    }

    [Fact]
    public void Host_CountsFromTheNetwork()
    {
        Assert.True(AddressPrefix.TryParse("10.1.0.0/24", out AddressPrefix subnet, out _));
        Assert.Equal("10.1.0.4", subnet.Host(4).ToString());
        Assert.Equal(256, (int)subnet.Size);
    }
}
