using System.Net;
using Microsoft.AspNetCore.Http;
using TrustedLaunch.Server.Endpoints;

namespace TrustedLaunch.Server.Tests.Endpoints;

public sealed class LoopbackOnlyFilterTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("192.0.2.7", false)]
    [InlineData("::ffff:192.0.2.7", false)]
    [InlineData("2001:db8::1", false)]
    public void IsLocal_OnlyLoopbackCallers(string address, bool local)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(address);
        Assert.Equal(local, LoopbackOnlyFilter.IsLocal(context));
    }

    [Fact]
    public async Task Invoke_RemoteCaller_403WithoutRunningTheEndpoint()
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.7");
        bool ran = false;
        object? result = await new LoopbackOnlyFilter().InvokeAsync(new DefaultEndpointFilterInvocationContext(context),
            _ => { ran = true; return ValueTask.FromResult<object?>(Results.Ok()); });
        Assert.False(ran);
        var problem = Assert.IsAssignableFrom<IStatusCodeHttpResult>(result);
        Assert.Equal(StatusCodes.Status403Forbidden, problem.StatusCode);
    }
}

public sealed class ArmLoopbackOnlyFilterTests
{
    [Fact]
    public async Task Invoke_RemoteCaller_403AuthorizationFailedInArmsEnvelope()
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.7");
        bool ran = false;
        object? result = await new TrustedLaunch.Server.Endpoints.Arm.ArmLoopbackOnlyFilter().InvokeAsync(new DefaultEndpointFilterInvocationContext(context),
            _ => { ran = true; return ValueTask.FromResult<object?>(Results.Ok()); });

        Assert.False(ran);
        Assert.Equal(StatusCodes.Status403Forbidden, Assert.IsAssignableFrom<IStatusCodeHttpResult>(result).StatusCode);
    }
}
