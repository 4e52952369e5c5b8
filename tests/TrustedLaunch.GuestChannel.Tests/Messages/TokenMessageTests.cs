using System.Text;
using TrustedLaunch.GuestChannel.Messages;

namespace TrustedLaunch.GuestChannel.Tests.Messages;

/// <summary>The <c>token</c> (host → guest) and <c>tokenStored</c> (guest → host) messages that hand a bound token to the guest.</summary>
public sealed class TokenMessageTests
{
    private const string Jwe = "eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.a2V5.aXY.Y2lwaGVy.dGFn";
    private const string Jwks = """{"keys":[{"kty":"EC","crv":"P-256","x":"AQ","y":"Ag","kid":"k1"}]}""";

    [Fact]
    public void Encode_Token_IsTheDocumentedJson()
    {
        byte[] json = GuestMessageCodec.Encode(new TokenMessage(7, Jwe, Jwks));
        Assert.Equal($$"""{"type":"token","id":7,"token":"{{Jwe}}","jwks":{{Jwks}}}""", Encoding.UTF8.GetString(json));
    }

    [Fact]
    public void Decode_TokenAndTokenStored_RoundTrip()
    {
        var token = (TokenMessage)GuestMessageCodec.Decode(GuestMessageCodec.Encode(new TokenMessage(7, Jwe, Jwks)));
        Assert.Equal((7L, Jwe, Jwks), (token.Id!.Value, token.Token, token.Jwks));
        Assert.Null(((TokenMessage)GuestMessageCodec.Decode(GuestMessageCodec.Encode(new TokenMessage(8, Jwe)))).Jwks);
        var at = new DateTimeOffset(2026, 12, 6, 1, 2, 3, TimeSpan.Zero);
        var stored = (TokenStoredMessage)GuestMessageCodec.Decode(GuestMessageCodec.Encode(new TokenStoredMessage(7, "kid-1", at, "/run/tl/attestation-token.jwt")));
        Assert.Equal((7L, "kid-1", at, "/run/tl/attestation-token.jwt"), (stored.Id!.Value, stored.KeyId, stored.Expires, stored.Path));
    }

    [Theory]
    [InlineData("""{"type":"token","token":"a.b.c.d.e"}""", GuestChannelError.BadField, null)]
    [InlineData("""{"type":"token","id":1}""", GuestChannelError.BadField, 1L)]
    [InlineData("""{"type":"token","id":2,"token":""}""", GuestChannelError.BadField, 2L)]
    [InlineData("""{"type":"token","id":3,"token":"h.p.s"}""", GuestChannelError.BadField, 3L)]
    [InlineData("""{"type":"token","id":4,"token":7}""", GuestChannelError.BadField, 4L)]
    [InlineData("""{"type":"token","id":5,"token":"a.b.c.d.e","jwks":[1]}""", GuestChannelError.BadField, 5L)]
    [InlineData("""{"type":"token","id":6,"token":"a.b.c.d.e","jwks":{"keys":"k"}}""", GuestChannelError.BadField, 6L)]
    [InlineData("""{"type":"tokenStored","id":7,"kid":"k","expires":"soon","path":"/run/x"}""", GuestChannelError.BadField, 7L)]
    [InlineData("""{"type":"tokenStored","id":8,"expires":"2026-12-06T01:02:03Z","path":"/run/x"}""", GuestChannelError.BadField, 8L)]
    public void TryDecode_Malformed_FalseWithTypedErrorAndId(string json, GuestChannelError error, long? id)
    {
        Assert.False(GuestMessageCodec.TryDecode(Encoding.UTF8.GetBytes(json), out GuestMessage? message, out GuestChannelException? e));
        Assert.Null(message);
        Assert.Equal((error, id), (e.Error, e.MessageId));
        Assert.Throws<GuestChannelException>(() => GuestMessageCodec.Decode(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void Decode_OversizedTokenOrJwks_RefusedNamingTheLimit()
    {
        string longToken = "a.b.c.d." + new string('e', TokenMessage.MaxTokenChars);
        var e = Assert.Throws<GuestChannelException>(() => GuestMessageCodec.Decode(Encoding.UTF8.GetBytes($$"""{"type":"token","id":1,"token":"{{longToken}}"}""")));
        Assert.Contains("outside 1-", e.Message, StringComparison.Ordinal);
        string bigJwks = $$"""{"keys":[],"pad":"{{new string('x', TokenMessage.MaxJwksBytes)}}"}""";
        e = Assert.Throws<GuestChannelException>(() => GuestMessageCodec.Decode(Encoding.UTF8.GetBytes($$"""{"type":"token","id":2,"token":"a.b.c.d.e","jwks":{{bigJwks}}}""")));
        Assert.Contains("larger than", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryDecode_Valid_TrueWithMessage()
    {
        Assert.True(GuestMessageCodec.TryDecode("""{"type":"ping","id":3}"""u8.ToArray(), out GuestMessage? message, out GuestChannelException? error));
        Assert.IsType<PingRequest>(message);
        Assert.Null(error);
    }
}
