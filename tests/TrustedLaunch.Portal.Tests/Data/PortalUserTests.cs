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
        Assert.Equal(new PortalUser("alice", CanWrite: false), PortalUser.From(Signed("Reader")));
        Assert.True(PortalUser.From(Signed("Reader", "Contributor")).CanWrite);
        Assert.True(PortalUser.From(Signed("Owner")).CanWrite);
    }
}
