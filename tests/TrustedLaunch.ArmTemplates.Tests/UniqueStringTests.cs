using TrustedLaunch.ArmTemplates.Functions;
using static TrustedLaunch.ArmTemplates.Tests.TemplateHarness;

namespace TrustedLaunch.ArmTemplates.Tests;

public class UniqueStringTests
{
    // Vectors: Bicep's uniqueString() outputs as published with a public re-implementation of ARM's algorithm
    // (MurmurHash64 of the '-'-joined UTF-8 arguments, 13 base32 characters); they cover 1-4, 8+ and odd tail lengths.
    [Theory]
    [InlineData("rbgf3xv4ufgzg", new[] { "test" })]
    [InlineData("a7wkljktk6wne", new[] { "hello", "world" })]
    [InlineData("cgtzqvhu4i23s", new[] { "abc" })]
    [InlineData("bmg7c6xu4tw46", new[] { "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg" })]
    [InlineData("xzi4ioaxtmth4", new[] { "foo", "bar", "baz" })]
    public void Compute_KnownInputs_MatchesAzure(string expected, string[] values) => Assert.Equal(expected, UniqueString.Compute(values));

    [Fact]
    public void Function_ResourceGroupId_MatchesComputeOfTheId() =>
        Assert.Equal("\"bmg7c6xu4tw46\"", Evaluate("[uniqueString(resourceGroup().id)]"));

    [Fact]
    public void Compute_IsCaseSensitiveAndThirteenBase32Characters()
    {
        string lower = UniqueString.Compute("abc"), upper = UniqueString.Compute("ABC");
        Assert.NotEqual(lower, upper);
        Assert.All(new[] { lower, upper }, s => Assert.Matches("^[a-z2-7]{13}$", s));
    }
}
