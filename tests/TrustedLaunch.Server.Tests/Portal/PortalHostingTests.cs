using System.Net;
using TrustedLaunch.Server.Tests.Http;

namespace TrustedLaunch.Server.Tests.Portal;

/// <summary>The portal as <c>tl server</c> maps it: HTML pages at /portal, and no change without an antiforgery token.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PortalHostingTests
{
    [Fact]
    public async Task Portal_RedirectsToTheVmList_WhichIsHtmlWithTheSortableTable()
    {
        await using ServiceUnderTest service = await ServiceUnderTest.StartAsync(caDirectory: null);

        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = service.BaseAddress };
        using HttpResponseMessage root = await noRedirects.GetAsync(new Uri("/portal", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/portal/vms", root.Headers.Location?.OriginalString);

        using HttpResponseMessage list = await service.Client.GetAsync(new Uri("/portal/vms?sort=power&desc=true", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal("text/html", list.Content.Headers.ContentType?.MediaType);
        string html = await list.Content.ReadAsStringAsync();
        Assert.Contains("<h1>Virtual machines</h1>", html, StringComparison.Ordinal);
        Assert.Contains("aria-sort=\"descending\"", html, StringComparison.Ordinal);
        // Complete without JavaScript: the one script is the live-rows enhancement (LiveUpdates.razor), no framework.
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "<script", System.Text.RegularExpressions.RegexOptions.IgnoreCase));
        Assert.Contains("/portal/live/vms", html, StringComparison.Ordinal);
        Assert.DoesNotContain("blazor.web.js", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortalForm_WithoutAntiforgeryToken_IsRefused()
    {
        await using ServiceUnderTest service = await ServiceUnderTest.StartAsync(caDirectory: null);

        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["_handler"] = "create-vm", ["Form.Name"] = "vm1", ["Form.Intent"] = "create" });
        using HttpResponseMessage posted = await service.Client.PostAsync(new Uri("/portal/create", UriKind.Relative), form);

        Assert.Equal(HttpStatusCode.BadRequest, posted.StatusCode);
    }
}
