using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Tests;

public sealed class ReferencePolicyCacheTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Get_SameStoredJson_SameParsedPolicy()
    {
        var cache = new ReferencePolicyCache();
        var stored = new StoredPolicy("p", """{"name":"p","kernelCommandLinePattern":"/vmlinuz .*"}""", T0);

        ReferencePolicy first = cache.Get(stored);

        Assert.Same(first, cache.Get(stored with { UpdatedAt = T0.AddDays(1) }));
    }

    [Fact]
    public void Get_StoredJsonChanged_ParsedAgain()
    {
        var cache = new ReferencePolicyCache();
        ReferencePolicy before = cache.Get(new StoredPolicy("p", """{"name":"p"}""", T0));

        ReferencePolicy after = cache.Get(new StoredPolicy("p", """{"name":"p","allowKernelDebug":true}""", T0));

        Assert.NotSame(before, after);
        Assert.True(after.AllowKernelDebug);
    }

    [Fact]
    public void Forget_ThenGet_ParsedAgain()
    {
        var cache = new ReferencePolicyCache();
        var stored = new StoredPolicy("p", """{"name":"p"}""", T0);
        ReferencePolicy before = cache.Get(stored);

        cache.Forget("p");

        Assert.NotSame(before, cache.Get(stored));
    }

    [Fact]
    public void Get_StoredJsonNoLongerAPolicy_StoreException()
    {
        var cache = new ReferencePolicyCache();

        StoreException e = Assert.Throws<StoreException>(() => cache.Get(new StoredPolicy("p", """{"name":"q"}""", T0)));

        Assert.Contains("'p'", e.Message, StringComparison.Ordinal);
    }
}
