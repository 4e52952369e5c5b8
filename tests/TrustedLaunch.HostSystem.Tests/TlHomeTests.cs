using TrustedLaunch.HostSystem;

namespace TrustedLaunch.HostSystem.Tests;

public sealed class TlHomeTests
{
    [Theory]
    [InlineData("/srv/tl", true, "/home/x", "/srv/tl")]
    [InlineData(null, true, "/root", "/var/lib/trustedlaunch")]
    [InlineData("", false, "/home/ana", "/home/ana/.local/share/trustedlaunch")]
    public void Resolve_Rules_PickTheDocumentedPlace(string? env, bool root, string profile, string expected) =>
        Assert.Equal(expected, TlHome.Resolve(env, root, profile));
}
