using TrustedLaunch.ControlPlane.Arm;

namespace TrustedLaunch.ControlPlane.Tests;

public sealed class ArmBasicsTests
{
    [Theory]
    [InlineData("rg1")]
    [InlineData("My_Resource-Group.(prod)")]
    [InlineData("grüppe")]
    public void CheckResourceGroup_ValidName_Null(string name) => Assert.Null(ArmNames.CheckResourceGroup(name));

    [Theory]
    [InlineData("", "1 to 90")]
    [InlineData("ends.", "period")]
    [InlineData("has space", "invalid characters: ' '")]
    [InlineData("a/b", "invalid characters: '/'")]
    public void CheckResourceGroup_InvalidName_InvalidResourceGroup(string name, string because)
    {
        ArmFailure failure = ArmNames.CheckResourceGroup(name)!;

        Assert.Equal(400, failure.StatusCode);
        Assert.Equal("InvalidResourceGroup", failure.Error.Code);
        Assert.Contains(because, failure.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckResourceGroup_91Characters_Invalid() => Assert.NotNull(ArmNames.CheckResourceGroup(new string('a', 91)));

    [Theory]
    [InlineData("vm1")]
    [InlineData("web-01.prod")]
    public void CheckVirtualMachine_ValidName_Null(string name) => Assert.Null(ArmNames.CheckVirtualMachine(name));

    [Theory]
    [InlineData("")]
    [InlineData("vm_1")]
    [InlineData("vm 1")]
    [InlineData("vm.")]
    [InlineData("vm-")]
    [InlineData("vm@1")]
    public void CheckVirtualMachine_InvalidName_InvalidResourceName(string name)
    {
        ArmFailure failure = ArmNames.CheckVirtualMachine(name)!;

        Assert.Equal("InvalidResourceName", failure.Error.Code);
        Assert.Contains($"'{name}'", failure.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckVirtualMachine_65Characters_Invalid() => Assert.NotNull(ArmNames.CheckVirtualMachine(new string('v', 65)));

    [Fact]
    public void CheckTags_ReservedCharacterAndTooMany_EachReported()
    {
        var tags = Enumerable.Range(0, 51).ToDictionary(i => $"t{i}", i => "v");
        tags["bad/name"] = "v";

        IReadOnlyList<ArmErrorDetail> errors = ArmNames.CheckTags(tags);

        Assert.Contains(errors, e => e.Code == "InvalidTagsCount");
        Assert.Contains(errors, e => e.Code == "InvalidTagNameCharacters" && e.Message.Contains("'bad/name'", StringComparison.Ordinal));
    }

    [Fact]
    public void CheckSubscriptionId_NotAGuid_InvalidSubscriptionId()
    {
        Assert.Null(ArmNames.CheckSubscriptionId(Guid.NewGuid().ToString()));
        ArmFailure failure = ArmNames.CheckSubscriptionId("sub1")!;
        Assert.Equal("The provided subscription identifier 'sub1' is malformed or invalid.", failure.Error.Message);
    }

    // The Addendum's ETag table for PUT: (precondition, resource exists, expected status or null when it holds).
    [Theory]
    [InlineData(null, null, false, null)]
    [InlineData(null, null, true, null)]
    [InlineData("*", null, false, 412)]
    [InlineData("*", null, true, null)]
    [InlineData("\"5\"", null, true, null)]
    [InlineData("\"4\"", null, true, 412)]
    [InlineData("\"5\"", null, false, 412)]
    [InlineData(null, "*", false, null)]
    [InlineData(null, "*", true, 412)]
    [InlineData("W/\"5\"", null, true, null)]
    [InlineData("\"1\", \"5\"", null, true, null)]
    public void CheckPreconditions_AddendumTable(string? ifMatch, string? ifNoneMatch, bool exists, int? expected)
    {
        ArmFailure? failure = EntityTags.CheckPreconditions(ifMatch, ifNoneMatch, exists ? 5 : null);

        Assert.Equal(expected, failure?.StatusCode);
        if (failure is not null)
            Assert.Equal("PreconditionFailed", failure.Error.Code);
    }

    [Fact]
    public void Format_QuotedInteger_AsComputeAnswers() => Assert.Equal("\"5\"", EntityTags.Format(5));

    [Fact]
    public void Check_MissingApiVersion_ArmsMessage()
    {
        ArmFailure failure = ApiVersions.Check(null, ArmResourceKind.VirtualMachine, "westus", ["westus"])!;

        Assert.Equal(400, failure.StatusCode);
        Assert.Equal("MissingApiVersionParameter", failure.Error.Code);
        Assert.Equal("The api-version query parameter (?api-version=) is required for all requests.", failure.Error.Message);
    }

    [Fact]
    public void Check_UnknownComputeVersion_NoRegisteredProviderFoundListingSupported()
    {
        ArmFailure failure = ApiVersions.Check("2019-07-01", ArmResourceKind.VirtualMachine, "westus", ["westus"])!;

        Assert.Equal("NoRegisteredProviderFound", failure.Error.Code);
        Assert.StartsWith("No registered resource provider found for location 'westus' and API version '2019-07-01' for type 'virtualMachines'. " +
            "The supported api-versions are '2026-04-01, 2026-03-01, ", failure.Error.Message, StringComparison.Ordinal);
        Assert.EndsWith("2020-12-01'. The supported locations are 'westus'.", failure.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UnknownResourceGroupVersion_InvalidApiVersionParameter()
    {
        ArmFailure failure = ApiVersions.Check("2099-01-01", ArmResourceKind.ResourceGroup, "westus", ["westus"])!;

        Assert.Equal("InvalidApiVersionParameter", failure.Error.Code);
        Assert.StartsWith("The api-version '2099-01-01' is invalid. The supported versions are '2025-04-01,2025-03-01,", failure.Error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2020-12-01", ArmResourceKind.VirtualMachine)]
    [InlineData("2024-07-01", ArmResourceKind.VirtualMachine)]
    [InlineData("2026-04-01", ArmResourceKind.Operation)]
    [InlineData("2021-04-01", ArmResourceKind.ResourceGroup)]
    [InlineData("2022-12-01", ArmResourceKind.Subscription)]
    public void Check_PublishedVersion_Accepted(string version, ArmResourceKind kind) => Assert.Null(ApiVersions.Check(version, kind, "l", ["l"]));

    [Fact]
    public void FromViolations_Several_MultipleErrorsOccurredWithAllInDetails()
    {
        ArmErrorDetail a = new() { Code = "A", Message = "a", Target = "x" }, b = new() { Code = "B", Message = "b", Target = "y" };

        ArmFailure one = ArmFailure.FromViolations(400, [a]);
        ArmFailure two = ArmFailure.FromViolations(400, [a, b]);

        Assert.Equal("A", one.Error.Code);
        Assert.Equal([a], one.Error.Details!);
        Assert.Equal("MultipleErrorsOccurred", two.Error.Code);
        Assert.Equal([a, b], two.Error.Details!);
    }

    [Theory]
    [InlineData("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/img", true)]
    [InlineData("/subscriptions/s/resourceGroups/rg/providers/microsoft.compute/IMAGES/img", true)]
    [InlineData("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0", false)]
    public void IsManagedImage_ByProviderSegment(string id, bool managed) => Assert.Equal(managed, ResourceIds.IsManagedImage(id));

    [Fact]
    public void NormalizeLocation_AsArm() => Assert.Equal("westus2", ResourceIds.NormalizeLocation("West US 2"));
}
