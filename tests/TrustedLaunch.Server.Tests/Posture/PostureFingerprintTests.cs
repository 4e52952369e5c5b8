using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Tests.Posture;

/// <summary>
/// The fingerprint is equal exactly when posture would read the same observation (at another instant): what differs
/// from one token to the next does not move it; anything posture reads does.
/// </summary>
public sealed class PostureFingerprintTests
{
    private const string Findings = """[{"kind":"module-rejected","module":"ttyprintk","message":"Loading of unsigned module is rejected","at":"2026-12-06T10:00:00Z"}]""";

    [Fact]
    public void TwoTokensOfOneBoot_SameFingerprint_WhateverTheirTimesIdsAndOtherClaims()
    {
        string a = PostureFingerprint.Of(Pass($$"""{"iat":1,"jti":"a","x-tl-policy":"minimum","x-tl-findings":{{Findings}},"nonce":"AAAA"}"""))!;
        string b = PostureFingerprint.Of(Pass($$"""{"iat":1000000,"x-tl-policy":"minimum","jti":"bbbbbbbbbb","x-tl-findings":{{Findings}},"nonce":"BBBBBBBB","exp":9}"""))!;

        Assert.Equal(32, a.Length);
        Assert.Equal(a, b);
        Assert.Equal(a, PostureFingerprint.Of(Pass($$"""{"iat":1,"jti":"a","x-tl-policy":"minimum","x-tl-findings":{{Findings}},"nonce":"AAAA"}""") with { At = DateTimeOffset.UnixEpoch, Id = 9 }));
    }

    [Theory]
    [InlineData("""{"x-tl-policy":"strict","x-tl-findings":[]}""")]
    [InlineData("""{"x-tl-policy":"minimum","x-tl-findings":[{"kind":"module-rejected","module":"other","message":"m","at":"2026-12-06T10:00:00Z"}]}""")]
    [InlineData("""{"x-tl-policy":"minimum","x-tl-findings":[],"x-tl-secureboot-keys":{"dbx":{"count":3}}}""")]
    [InlineData("""{"x-tl-policy":"minimum"}""")]
    public void WhatPostureReads_Differs_FingerprintDiffers(string claims) =>
        Assert.NotEqual(PostureFingerprint.Of(Pass("""{"x-tl-policy":"minimum","x-tl-findings":[]}""")), PostureFingerprint.Of(Pass(claims)));

    [Fact]
    public void VerdictReasonComponentMessage_EachMovesTheFingerprint()
    {
        AttestationRecord failure = new()
        {
            VmId = Guid.Empty, At = DateTimeOffset.UnixEpoch, Verdict = AttestationVerdict.Fail, Reason = "BaselineDeviation", Component = "PCR[7]", Message = "m",
        };
        string?[] prints =
        [
            PostureFingerprint.Of(failure),
            PostureFingerprint.Of(failure with { Verdict = AttestationVerdict.Pass }),
            PostureFingerprint.Of(failure with { Reason = "QuoteInvalid" }),
            PostureFingerprint.Of(failure with { Component = "PCR[4]" }),
            PostureFingerprint.Of(failure with { Message = "n" }),
            PostureFingerprint.Of(failure with { Message = null }),
            PostureFingerprint.Of(failure with { Reason = "AgentUnresponsive" }),
        ];
        Assert.Equal(prints.Length, prints.Distinct().Count());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"x-tl-policy":"minimum" """)]
    public void ClaimsNotOneJsonObject_NoFingerprint(string claims) => Assert.Null(PostureFingerprint.Of(Pass(claims)));

    private static AttestationRecord Pass(string claims) => new()
    {
        VmId = Guid.Empty, At = DateTimeOffset.UnixEpoch, Verdict = AttestationVerdict.Pass, ClaimsJson = claims,
    };
}
