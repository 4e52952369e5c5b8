using System.Text;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel.Messages;

namespace TrustedLaunch.GuestChannel.Tests.Messages;

public sealed class GuestMessageCodecTests
{
    private static GuestMessage RoundTrip(GuestMessage message) => GuestMessageCodec.Decode(GuestMessageCodec.Encode(message));

    [Fact]
    public void Encode_Attest_IsTheDocumentedJson()
    {
        byte[] json = GuestMessageCodec.Encode(new AttestRequest(3, [0xDE, 0xAD, 0xBE, 0xEF, 0, 1, 2, 3], [0, 7]));
        Assert.Equal("""{"type":"attest","id":3,"nonce":"3q2+7wABAgM=","pcrs":[0,7]}""", Encoding.UTF8.GetString(json));
    }

    [Fact]
    public void Decode_EveryMessageType_RoundTrips()
    {
        var attest = (AttestRequest)RoundTrip(new AttestRequest(1, new byte[32], [14, 0]));
        Assert.Equal([0, 14], attest.Pcrs!);
        Assert.Equal(new byte[32], attest.Nonce);
        Assert.Null(((AttestRequest)RoundTrip(new AttestRequest(2, new byte[8]))).Pcrs);
        Assert.False(attest.BindToken);
        Assert.True(((AttestRequest)RoundTrip(new AttestRequest(6, new byte[8], BindToken: true))).BindToken);
        Assert.Equal(5, RoundTrip(new PingRequest(5)).Id);
        var heartbeat = (HeartbeatMessage)RoundTrip(new HeartbeatMessage(null, HeartbeatStatus.Ready, 42, "1.0.0"));
        Assert.Equal((HeartbeatStatus.Ready, 42L, "1.0.0", 1, (long?)null), (heartbeat.Status, heartbeat.UptimeSeconds, heartbeat.AgentVersion, heartbeat.ProtocolVersion, heartbeat.Id));
        var finding = new GuestFinding { Kind = GuestFinding.Kinds.ModuleRejected, Module = "ttyprintk", Message = "Loading of unsigned module is rejected", At = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero) };
        Assert.Equal(finding, ((FindingMessage)RoundTrip(new FindingMessage(finding))).Finding);
        var error = (ErrorMessage)RoundTrip(new ErrorMessage(9, GuestErrorCodes.TpmFailure, "TPM_RC_HANDLE"));
        Assert.Equal((9L, "tpm-failure", "TPM_RC_HANDLE"), (error.Id!.Value, error.Code, error.Message));
    }

    [Fact]
    public void Decode_Evidence_RoundTripsThroughTheEvidenceLibrary()
    {
        AttestationEvidence evidence = SampleEvidence.Create();
        var decoded = (EvidenceMessage)RoundTrip(new EvidenceMessage(4, evidence));
        Assert.Equal(4, decoded.Id);
        Assert.Equal(EvidenceJson.Serialize(evidence), EvidenceJson.Serialize(decoded.Evidence));
    }

    [Fact]
    public void Decode_UnknownMembers_AreIgnored()
    {
        var ping = GuestMessageCodec.Decode("""{"type":"ping","id":8,"future":{"x":[1,2]}}"""u8.ToArray());
        Assert.IsType<PingRequest>(ping);
    }

    [Theory]
    [InlineData("not json", GuestChannelError.MalformedJson, null)]
    [InlineData("[1,2]", GuestChannelError.MalformedJson, null)]
    [InlineData("{\"type\":\"ping\"", GuestChannelError.MalformedJson, null)]
    [InlineData("\"attest\"", GuestChannelError.MalformedJson, null)]
    [InlineData("{\"id\":4}", GuestChannelError.UnknownType, 4L)]
    [InlineData("{\"type\":\"reboot\",\"id\":5}", GuestChannelError.UnknownType, 5L)]
    [InlineData("{\"type\":7,\"id\":6}", GuestChannelError.UnknownType, 6L)]
    [InlineData("{\"type\":\"attest\",\"id\":7}", GuestChannelError.BadField, 7L)]
    [InlineData("{\"type\":\"attest\",\"id\":8,\"nonce\":\"***\"}", GuestChannelError.BadField, 8L)]
    [InlineData("{\"type\":\"attest\",\"id\":9,\"nonce\":\"AQID\"}", GuestChannelError.BadField, 9L)]
    [InlineData("{\"type\":\"attest\",\"id\":10,\"nonce\":\"AAAAAAAAAAA=\",\"pcrs\":[24]}", GuestChannelError.BadField, 10L)]
    [InlineData("{\"type\":\"attest\",\"id\":11,\"nonce\":\"AAAAAAAAAAA=\",\"pcrs\":[1,1]}", GuestChannelError.BadField, 11L)]
    [InlineData("{\"type\":\"attest\",\"id\":12,\"nonce\":\"AAAAAAAAAAA=\",\"bindToken\":\"yes\"}", GuestChannelError.BadField, 12L)]
    [InlineData("{\"type\":\"attest\",\"id\":12,\"nonce\":\"AAAAAAAAAAA=\",\"pcrs\":\"0-9\"}", GuestChannelError.BadField, 12L)]
    [InlineData("{\"type\":\"attest\",\"nonce\":\"AAAAAAAAAAA=\"}", GuestChannelError.BadField, null)]
    [InlineData("{\"type\":\"ping\",\"id\":-1}", GuestChannelError.BadField, null)]
    [InlineData("{\"type\":\"ping\",\"id\":\"1\"}", GuestChannelError.BadField, null)]
    [InlineData("{\"type\":\"heartbeat\",\"status\":\"ready\"}", GuestChannelError.BadField, null)]
    [InlineData("{\"type\":\"finding\",\"finding\":{\"kind\":\"taint\",\"message\":\"x\",\"at\":\"yesterday\"}}", GuestChannelError.BadField, null)]
    [InlineData("{\"type\":\"evidence\",\"id\":13,\"evidence\":{\"version\":1}}", GuestChannelError.BadField, 13L)]
    public void Decode_Malformed_ThrowsTypedErrorWithTheIdWhenReadable(string json, GuestChannelError error, long? id)
    {
        var e = Assert.Throws<GuestChannelException>(() => GuestMessageCodec.Decode(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(error, e.Error);
        Assert.Equal(id, e.MessageId);
    }

    /// <summary>
    /// Found by fuzzing (fuzz/corpus/guest-frame/crash-*): JSON whose string holds bytes that are not UTF-8 parses as a
    /// document, then reading the string threw InvalidOperationException instead of the channel's typed error.
    /// </summary>
    [Theory]
    [InlineData("7B2274797065223A22657272907222")]                                                  // {"type":"err\x90r" in the type
    [InlineData("7B2274797065223A226572726F72222C226964223A332C22636F6465223A2261FF62222C226D657373616765223A226D227D")] // in code
    public void Decode_StringThatIsNotUtf8_ThrowsMalformedJson(string prefixHex)
    {
        byte[] json = Convert.FromHexString(prefixHex);
        if (json[^1] != (byte)'}')
            json = [.. json, .. "}"u8];

        var e = Assert.Throws<GuestChannelException>(() => GuestMessageCodec.Decode(json));
        Assert.Equal(GuestChannelError.MalformedJson, e.Error);
    }

    [Fact]
    public void Decode_EvidenceWithBadField_NamesTheFieldThroughTheEvidenceError()
    {
        string good = Encoding.UTF8.GetString(EvidenceJson.Serialize(SampleEvidence.Create()));
        string bad = good.Replace(new string('a', 64), new string('A', 64), StringComparison.Ordinal); // uppercase hex
        var e = Assert.Throws<GuestChannelException>(() => GuestMessageCodec.Decode(Encoding.UTF8.GetBytes($$"""{"type":"evidence","id":1,"evidence":{{bad}}}""")));
        var inner = Assert.IsType<EvidenceFormatException>(e.InnerException);
        Assert.Contains("pcrs", inner.Field, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_DeeplyNestedJson_IsRejectedNotOverflowed()
    {
        string deep = "{\"type\":\"ping\",\"id\":1,\"x\":" + new string('[', 100_000) + new string(']', 100_000) + "}";
        var e = Assert.Throws<GuestChannelException>(() => GuestMessageCodec.Decode(Encoding.UTF8.GetBytes(deep)));
        Assert.Equal(GuestChannelError.MalformedJson, e.Error);
    }
}
