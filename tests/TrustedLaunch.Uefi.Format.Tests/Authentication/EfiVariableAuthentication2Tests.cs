using System.Buffers.Binary;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Uefi.Format.Tests.Authentication;

public class EfiVariableAuthentication2Tests
{
    private static readonly EfiTime Time = new(2024, 2, 29, 23, 59, 58);

    [Fact]
    public void Encode_ThenParse_RoundTripsWithSpecLayout()
    {
        byte[] signed = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        byte[] payload = [1, 2, 3];
        byte[] encoded = new EfiVariableAuthentication2(Time, signed, payload).Encode();
        Assert.Equal(EfiVariableAuthentication2.HeaderSize + 300 + 3, encoded.Length);
        Assert.Equal(24u + 300, BinaryPrimitives.ReadUInt32LittleEndian(encoded.AsSpan(16))); // dwLength covers the header
        Assert.Equal(0x0200, BinaryPrimitives.ReadUInt16LittleEndian(encoded.AsSpan(20)));
        Assert.Equal(0x0EF1, BinaryPrimitives.ReadUInt16LittleEndian(encoded.AsSpan(22)));
        Assert.Equal(EfiGuids.CertTypePkcs7, new Guid(encoded.AsSpan(24, 16)));
        var parsed = EfiVariableAuthentication2.Parse(encoded);
        Assert.Equal(Time, parsed.TimeStamp);
        Assert.Equal(signed, parsed.SignedData.ToArray());
        Assert.Equal(payload, parsed.Payload.ToArray());
    }

    [Fact]
    public void TryParse_TruncatedAtEveryOffsetOrBadFields_FailsCleanly()
    {
        byte[] encoded = new EfiVariableAuthentication2(Time, new byte[64], new byte[10]).Encode();
        for (int n = 0; n < EfiVariableAuthentication2.HeaderSize + 64; n++)
            Assert.False(EfiVariableAuthentication2.TryParse(encoded.AsMemory(0, n), out _, out _));
        foreach (int at in new[] { 16, 19, 20, 22, 24, 39 })
        {
            byte[] bad = (byte[])encoded.Clone();
            bad[at] ^= 0x80;
            Assert.False(EfiVariableAuthentication2.TryParse(bad, out _, out string? error));
            Assert.NotNull(error);
        }
    }

    [Fact]
    public void TimeBasedSigningData_Build_IsNameWithoutNulGuidAttributesTimePayload()
    {
        byte[] data = TimeBasedSigningData.Build("db", EfiGuids.ImageSecurityDatabase, (EfiVariableAttributes)0x67, Time, [0xAA]);
        Assert.Equal(4 + 16 + 4 + 16 + 1, data.Length);
        Assert.Equal("640062", Convert.ToHexStringLower(data.AsSpan(0, 3)));
        Assert.Equal(EfiGuids.ImageSecurityDatabase, new Guid(data.AsSpan(4, 16)));
        Assert.Equal(0x67u, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(20)));
        Assert.Equal(Time, EfiTime.Read(data.AsSpan(24)));
        Assert.Equal(0xAA, data[^1]);
    }

    [Fact]
    public void EfiTime_CompareTo_OrdersLikeEdk2AndValidatesPads()
    {
        Assert.True(new EfiTime(2010, 3, 6, 19, 17, 21) < new EfiTime(2010, 3, 6, 19, 17, 22));
        Assert.True(new EfiTime(2011, 1, 1, 0, 0, 0) > new EfiTime(2010, 12, 31, 23, 59, 59));
        Assert.False(new EfiTime(2010, 1, 1, 0, 0, 0, TimeZone: 60).IsValidAuthenticationTime);
        Span<byte> buffer = stackalloc byte[EfiTime.Size];
        var t = new EfiTime(2025, 3, 10, 2, 53, 39, 1, 2, -3, 4, 5);
        t.WriteTo(buffer);
        Assert.Equal(t, EfiTime.Read(buffer));
        Assert.Equal("2025-03-10T02:53:39Z", new EfiTime(2025, 3, 10, 2, 53, 39).ToString());
    }
}
