using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Protocol.Swtpm;

namespace TrustedLaunch.Tpm.Protocol.Tests.Swtpm;

public sealed class SwtpmControlCodecTests
{
    public static TheoryData<SwtpmControlRequest> Requests => new()
    {
        new SwtpmControlRequest(SwtpmControlCommand.GetCapability),
        new SwtpmControlRequest(SwtpmControlCommand.Init) { InitFlags = SwtpmInitOptions.DeleteVolatile },
        new SwtpmControlRequest(SwtpmControlCommand.SetLocality) { Locality = 3 },
        new SwtpmControlRequest(SwtpmControlCommand.ResetTpmEstablished) { Locality = 4 },
        new SwtpmControlRequest(SwtpmControlCommand.HashData) { Data = [1, 2, 3, 4, 5] },
        new SwtpmControlRequest(SwtpmControlCommand.GetStateBlob) { StateFlags = SwtpmStateBlobOptions.Decrypted, BlobType = SwtpmStateBlobType.Volatile, Offset = 7 },
        new SwtpmControlRequest(SwtpmControlCommand.SetStateBlob) { BlobType = SwtpmStateBlobType.Permanent, Data = [9, 8, 7] },
        new SwtpmControlRequest(SwtpmControlCommand.SetBufferSize) { Value = 3968 },
        new SwtpmControlRequest(SwtpmControlCommand.GetInfo) { InfoFlags = SwtpmInfoSelectors.TpmSpecification | SwtpmInfoSelectors.TpmAttributes, Offset = 5 },
        new SwtpmControlRequest(SwtpmControlCommand.LockStorage) { Value = 300 },
        new SwtpmControlRequest(SwtpmControlCommand.Stop),
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public void Request_EncodeDecode_RoundTripsAndLengthsAgree(SwtpmControlRequest request)
    {
        byte[] bytes = request.Encode();
        int fixedLength = SwtpmControlRequest.FixedBodyLength(request.Command);
        int variable = SwtpmControlRequest.VariableBodyLength(request.Command, bytes.AsSpan(4, fixedLength));
        Assert.Equal(bytes.Length, 4 + fixedLength + variable);
        var decoded = SwtpmControlRequest.Decode(bytes);
        Assert.Equal(request with { Data = [] }, decoded with { Data = [] });
        Assert.Equal(request.Data, decoded.Data);
    }

    [Fact]
    public void Request_SetBufferSize_IsBigEndianAsSwtpmExpects()
    {
        Assert.Equal("0000001100000F80", Convert.ToHexString(new SwtpmControlRequest(SwtpmControlCommand.SetBufferSize) { Value = 3968 }.Encode()));
        Assert.Equal("0000000C00000001000000020000000A", Convert.ToHexString(new SwtpmControlRequest(SwtpmControlCommand.GetStateBlob)
        {
            StateFlags = SwtpmStateBlobOptions.Decrypted, BlobType = SwtpmStateBlobType.Volatile, Offset = 10,
        }.Encode()));
    }

    public static TheoryData<SwtpmControlResponse> Responses => new()
    {
        new SwtpmControlResponse(SwtpmControlCommand.GetCapability) { Capabilities = (SwtpmCapabilities)0xFFFF },
        new SwtpmControlResponse(SwtpmControlCommand.Init),
        new SwtpmControlResponse(SwtpmControlCommand.SetLocality, SwtpmResult.BadLocality),
        new SwtpmControlResponse(SwtpmControlCommand.GetTpmEstablished) { TpmEstablished = true },
        new SwtpmControlResponse(SwtpmControlCommand.GetStateBlob) { StateFlags = SwtpmStateBlobOptions.Encrypted, TotalLength = 3, Data = [1, 2, 3] },
        new SwtpmControlResponse(SwtpmControlCommand.SetBufferSize) { BufferSize = 4096, MinSize = 2808, MaxSize = 4096 },
        new SwtpmControlResponse(SwtpmControlCommand.GetInfo) { TotalLength = 4, Data = "{}\0\0"u8.ToArray() },
        new SwtpmControlResponse(SwtpmControlCommand.GetConfig) { ConfigFlags = 1 },
    };

    [Theory]
    [MemberData(nameof(Responses))]
    public void Response_EncodeDecode_RoundTripsAndExpectedLengthMatches(SwtpmControlResponse response)
    {
        byte[] bytes = response.Encode();
        for (int have = 0; have < bytes.Length;)
        {
            int need = SwtpmControlResponse.ExpectedLength(response.Command, bytes.AsSpan(0, have));
            Assert.True(need > have, $"stalled at {have}");
            have = need;
        }

        Assert.Equal(bytes.Length, SwtpmControlResponse.ExpectedLength(response.Command, bytes));
        var decoded = SwtpmControlResponse.Decode(response.Command, bytes);
        Assert.Equal(response with { Data = [] }, decoded with { Data = [] });
        Assert.Equal(response.Data, decoded.Data);
    }

    [Fact]
    public void Response_CapabilityOfSwtpm071_DecodesMeasuredBytes()
    {
        // vtpm.md §2.2: swtpm 0.7.1 answers GET_CAPABILITY with 00000000 0000ffff.
        var caps = SwtpmControlResponse.Decode(SwtpmControlCommand.GetCapability, Convert.FromHexString("000000000000FFFF")).Capabilities;
        Assert.True(caps.HasFlag(SwtpmCapabilities.SendCommandHeader | SwtpmCapabilities.GetInfo | SwtpmCapabilities.Init));
        Assert.False(caps.HasFlag(SwtpmCapabilities.LockStorage));
    }
}
