using System.Text;
using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server.Tests;

public sealed class PolicyDocumentTests
{
    [Fact]
    public void Parse_RulesLeftOut_TakeTheDeclaredDefaults()
    {
        ReferencePolicy policy = PolicyDocument.Parse("""{"name":"p"}"""u8);

        // As ReferencePolicy declares them (and ReferencePolicy.Minimum has them): Secure Boot required, nothing else.
        Assert.Equal(new ReferencePolicy { Name = "p" }.ToJson(), policy.ToJson());
        Assert.True(policy.RequireSecureBoot);
    }

    [Fact]
    public void Parse_RulesWritten_KeptAsWritten()
    {
        ReferencePolicy policy = PolicyDocument.Parse("""
            {"name":"lab","requireSecureBoot":false,"allowKernelDebug":true,"allowedAuthorities":["Debian Secure Boot CA"],"kernelCommandLinePattern":"/vmlinuz .*"}
            """u8);

        Assert.False(policy.RequireSecureBoot);
        Assert.True(policy.AllowKernelDebug);
        Assert.Equal(["Debian Secure Boot CA"], policy.AllowedAuthorities);
        Assert.Equal("/vmlinuz .*", policy.KernelCommandLinePattern);
        Assert.Null(policy.AllowedBootApplicationDigests);
    }

    [Fact]
    public void Parse_StoredCanonicalForm_RoundTrips()
    {
        ReferencePolicy policy = PolicyDocument.Parse("""{"name":"p","allowedBootApplicationDigests":["ab"]}"""u8, "p");

        Assert.Equal(policy.ToJson(), PolicyDocument.Parse(policy.ToJson(), "p").ToJson());
    }

    [Theory]
    [InlineData("debian12-ms", true)]
    [InlineData("a", true)]
    [InlineData("v1.2_x", true)]
    [InlineData("minimum", false)]
    [InlineData("MINIMUM", false)]
    [InlineData("", false)]
    [InlineData(".hidden", false)]
    [InlineData("a/b", false)]
    [InlineData("trailing-newline\n", false)]
    public void IsValidName(string name, bool valid)
    {
        Assert.Equal(valid, PolicyDocument.IsValidName(name));
    }

    [Fact]
    public void IsValidName_LongestAllowedIs64()
    {
        Assert.True(PolicyDocument.IsValidName(new string('a', 64)));
        Assert.False(PolicyDocument.IsValidName(new string('a', 65)));
    }

    [Fact]
    public void Parse_NameNotUsable_FormatException()
    {
        FormatException e = Assert.Throws<FormatException>(() => PolicyDocument.Parse(Encoding.UTF8.GetBytes("""{"name":"minimum"}""")));

        Assert.Contains("built-in", e.Message, StringComparison.Ordinal);
    }
}
