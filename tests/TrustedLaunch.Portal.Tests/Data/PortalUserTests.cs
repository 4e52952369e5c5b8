using System.Security.Claims;
using TrustedLaunch.Portal.Data;

namespace TrustedLaunch.Portal.Tests.Data;

public sealed class PortalUserTests
{
    private static ClaimsPrincipal Signed(params string[] roles) => new(new ClaimsIdentity(
        [new Claim(ClaimTypes.Name, "alice"), .. roles.Select(r => new Claim(ClaimTypes.Role, r))], authenticationType: "test"));

    [Fact]
    public void From_NoAuthentication_TheCallerIsTrustedAsTheApiTrustsIt() =>
        Assert.True(PortalUser.From(new ClaimsPrincipal(new ClaimsIdentity())).CanWrite);

    [Fact]
    public void From_ReaderOnly_IsReadOnly_ContributorOrOwnerWrites()
    {
        PortalUser reader = PortalUser.From(Signed("Reader"));
        Assert.Equal(("alice", false, true), (reader.Name, reader.CanWrite, reader.SignedIn));
        Assert.True(PortalUser.From(Signed("Reader", "Contributor")).CanWrite);
        Assert.True(PortalUser.From(Signed("Owner")).CanWrite);
    }

    [Fact]
    public void SeesGroup_ARoleAtTheGroupAboveOrInsideIt_NotAnotherGroupOrSubscription()
    {
        var user = PortalUser.From(new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, "bob"), new Claim(ClaimTypes.Role, "Reader"), new Claim(PortalUser.ScopeClaim, "/subscriptions/s1/resourceGroups/web")], "test")));
        Assert.True(user.SeesGroup("s1", "web"));
        Assert.True(user.SeesGroup("S1", "WEB"));
        Assert.False(user.SeesGroup("s1", "web2"));
        Assert.False(user.SeesGroup("s2", "web"));
        Assert.False(user.CanWrite);
        Assert.True(PortalUser.From(null).SeesGroup("any", "group"));
        var subscriptionWide = PortalUser.From(new ClaimsPrincipal(new ClaimsIdentity([new Claim(PortalUser.ScopeClaim, "/subscriptions/s1")], "test")));
        Assert.True(subscriptionWide.SeesGroup("s1", "anything"));
    }

    [Fact]
    public void SeesSubscription_OnlyARoleAtItOrAbove_NotOneAtAGroup()
    {
        static PortalUser At(string scope) => PortalUser.From(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "c"), new Claim(PortalUser.ScopeClaim, scope)], "test")));
        Assert.True(At("/").SeesSubscription("s1"));
        Assert.True(At("/subscriptions/S1").SeesSubscription("s1"));
        Assert.False(At("/subscriptions/s1/resourceGroups/web").SeesSubscription("s1"));
        Assert.False(At("/subscriptions/s2").SeesSubscription("s1"));
        Assert.False(At("/subscriptions/s10").SeesSubscription("s1"));
        Assert.True(PortalUser.From(null).SeesSubscription("s1"));
    }

    [Theory]
    [InlineData("/portal/alerts?status=Active", "/portal/alerts?status=Active")]
    [InlineData("https://evil.example/portal/vms", "/portal/vms")]
    [InlineData("//evil.example/portal/vms", "/portal/vms")]
    [InlineData("/portal//evil.example", "/portal/vms")]
    [InlineData("/portal/signin", "/portal/vms")]
    [InlineData("/v1/audit", "/portal/vms")]
    [InlineData(null, "/portal/vms")]
    public void SafeReturn_OnlyAPortalPathOfThisSite(string? asked, string expected) =>
        Assert.Equal(expected, PortalSignIn.SafeReturn(asked));
}
