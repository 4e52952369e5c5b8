using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Inputs;
using TrustedLaunch.Posture.Suppression;

namespace TrustedLaunch.Posture.Tests.Suppression;

/// <summary>Which alerts a rule dismisses: type or <c>*</c>, every condition, while Enabled and not expired; unknown fields and operators never match.</summary>
public sealed class SuppressionRuleTests
{
    private static readonly DateTimeOffset Now = PostureVms.Booted.AddDays(1);

    /// <summary>An enabled rule for attestation failures of the tests' VM, without expiry.</summary>
    internal static SuppressionRule Rule() => new()
    {
        Name = "secure-boot-off-on-purpose",
        SubscriptionId = PostureVms.TrustedLaunch().SubscriptionId,
        AlertType = AlertTypes.AttestationFailed,
        Reason = "Benign",
        State = SuppressionState.Enabled,
        AllOf = [new SuppressionCondition("entities.azureResource.vmId", SuppressionFields.In, [PostureVms.TrustedLaunch().VmId.ToString("D")])],
        LastModifiedUtc = PostureVms.Booted,
    };

    private static SecurityAlert Alert(AlertCandidate candidate) =>
        AlertLedger.Fold(candidate, null, PostureSubject.Of(PostureVms.TrustedLaunch()), [], Now, Guid.NewGuid()).Alert!;

    private static readonly SecurityAlert Deviation = Alert(Assert.Single(AlertRules.Detect(PostureVms.TrustedLaunch(),
        PostureVms.Failure(nameof(AttestationFailureReason.BaselineDeviation), Now))));

    private static readonly SecurityAlert Module = Alert(Assert.Single(AlertRules.Detect(PostureVms.TrustedLaunch(), PostureVms.Pass(Now) with
    {
        Findings = [new FindingObservation(GuestFinding.Kinds.ModuleRejected, "ttyprintk", "Loading of unsigned module is rejected", Now)],
    })));

    [Fact]
    public void Matches_TypeAndEveryCondition() => Assert.True(Rule().Matches(Deviation, Now));

    [Fact]
    public void Matches_OtherType_No() => Assert.False(Rule().Matches(Module, Now));

    [Fact]
    public void Matches_AnyTypeWildcard() => Assert.True((Rule() with { AlertType = "*" }).Matches(Module, Now));

    [Fact]
    public void Matches_OneConditionFails_No() =>
        Assert.False((Rule() with
        {
            AllOf = [.. Rule().AllOf, new SuppressionCondition("entities.azureResource.resourceGroup", SuppressionFields.In, ["other-rg"])],
        }).Matches(Deviation, Now));

    [Theory]
    [InlineData("alertType", "in", "TL_VM_UntrustedKernelModule")]
    [InlineData("severity", "in", "low")]
    [InlineData("compromisedEntity", "in", "VM1")]
    [InlineData("entities.azureResource.resourceGroup", "in", "rg1")]
    [InlineData("entities.azureResource.resourceId", "contains", "/virtualMachines/vm1")]
    [InlineData("entities.file.name", "in", "ttyprintk")]
    [InlineData("extendedProperties.module", "contains", "PRINTK")]
    [InlineData("extendedProperties.signer", "in", "unsigned")]
    [InlineData("ExtendedProperties.Reason", "in", AlertReasons.ModuleRejected)]
    public void Matches_AlertFieldsCaseInsensitive(string field, string op, string value) =>
        Assert.True((Rule() with { AlertType = "*", AllOf = [new SuppressionCondition(field, op, [value])] }).Matches(Module, Now));

    [Fact]
    public void Matches_UnknownFieldOrOperator_NeverMatches()
    {
        Assert.False((Rule() with { AllOf = [new SuppressionCondition("entities.ip.address", SuppressionFields.In, ["1.2.3.4"])] }).Matches(Deviation, Now));
        Assert.False((Rule() with { AllOf = [new SuppressionCondition("extendedProperties.nope", SuppressionFields.In, [""])] }).Matches(Deviation, Now));
        Assert.False((Rule() with { AllOf = [new SuppressionCondition("entities.azureResource.resourceGroup", "startsWith", ["rg"])] }).Matches(Deviation, Now));
    }

    [Fact]
    public void Expiry_AtTheInstantExpired_BeforeStillEnabled()
    {
        SuppressionRule rule = Rule() with { ExpirationDateUtc = Now };

        Assert.Equal(SuppressionState.Enabled, rule.EffectiveState(Now.AddTicks(-1)));
        Assert.True(rule.Matches(Deviation, Now.AddTicks(-1)));
        Assert.Equal(SuppressionState.Expired, rule.EffectiveState(Now));
        Assert.False(rule.Matches(Deviation, Now));
    }

    [Theory]
    [InlineData(SuppressionState.Disabled)]
    [InlineData(SuppressionState.Expired)]
    public void Matches_NotEnabled_No(SuppressionState state)
    {
        SuppressionRule rule = Rule() with { State = state };

        Assert.False(rule.Matches(Deviation, Now));
        Assert.Equal(state, rule.EffectiveState(Now.AddYears(10)));
    }

    [Theory]
    [InlineData("alertType", true)]
    [InlineData("ENTITIES.AZURERESOURCE.VMID", true)]
    [InlineData("extendedProperties.reason", true)]
    [InlineData("extendedProperties.", false)]
    [InlineData("extendedProperties.<name>", false)]
    [InlineData("entities.ip.address", false)]
    [InlineData("status", false)]
    public void IsKnown_TheDocumentedFieldsOnly(string field, bool known) => Assert.Equal(known, SuppressionFields.IsKnown(field));
}
