using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Protocol.Swtpm;

namespace TrustedLaunch.Tpm.Protocol.Tests;

/// <summary>
/// Every parser on hostile input: each real sample truncated at every offset and mutated by random byte flips must
/// either parse or throw <see cref="TpmFormatException"/> — never another exception, never a hang.
/// </summary>
public sealed class HostileInputTests
{
    private delegate void Parser(byte[] input);

    private static readonly Dictionary<string, (Parser Parse, Func<byte[]> Sample)> Parsers = new()
    {
        ["TPMS_ATTEST"] = (b => TpmsAttest.Parse(b), () => Quote().Attest),
        ["TPMT_SIGNATURE"] = (b => TpmtSignature.Parse(b), () => Quote().Signature),
        ["TPMT_PUBLIC rsa"] = (b => TpmtPublic.Parse(b), () => Quote().Ak.ToBytes()),
        ["TPMT_PUBLIC ecc"] = (b => TpmtPublic.Parse(b), () => EkTemplates.EccL2.ToBytes()),
        ["TPM2B_PUBLIC/TPMT_PUBLIC"] = (b => TpmtPublic.ParseEither(b), () => Sized(EkTemplates.RsaL1.ToBytes())),
        ["TPML_PCR_SELECTION"] = (b => TpmlPcrSelection.Parse(b), () => TpmlPcrSelection.Of(TpmAlgId.Sha256, 0, 7, 23).ToBytes()),
        ["TPM2B_NV_PUBLIC"] = (b => { var r = new TpmReader(b); TpmsNvPublic.ReadSized(ref r); }, () =>
        {
            var w = new TpmWriter();
            new TpmsNvPublic(0x01C00002, TpmAlgId.Sha256, (TpmaNv)0x42072001, [1, 2, 3], 1024).WriteSized(w);
            return w.ToArray();
        }),
        ["TPMS_CAPABILITY_DATA"] = (b => { var r = new TpmReader(b); TpmsCapabilityData.Read(ref r); },
            () => Convert.FromHexString("000000060000000200000100322E30000000010549424D00")),
        ["TPM2B_ID_OBJECT"] = (b => TpmIdObject.Parse(b), () => new TpmIdObject(new byte[32], new byte[34]).ToBytes()),
        ["TPMS_ECC_POINT"] = (b => TpmsEccPoint.Parse(b), () => new TpmsEccPoint(new byte[32], new byte[32]).ToBytes()),
        ["tpm2_quote PCR file"] = (b => Tpm2ToolsPcrFile.Parse(b), () =>
            Tpm2ToolsPcrFile.Write(TpmlPcrSelection.Of(TpmAlgId.Sha256, 0, 1, 2), new Dictionary<(TpmAlgId, int), byte[]>
            {
                [(TpmAlgId.Sha256, 0)] = new byte[32], [(TpmAlgId.Sha256, 1)] = new byte[32], [(TpmAlgId.Sha256, 2)] = new byte[32],
            })),
        ["swtpm control request"] = (b => SwtpmControlRequest.Decode(b), () =>
            new SwtpmControlRequest(SwtpmControlCommand.SetStateBlob) { BlobType = SwtpmStateBlobType.Permanent, Data = new byte[40] }.Encode()),
        ["swtpm control response"] = (b => SwtpmControlResponse.Decode(SwtpmControlCommand.GetStateBlob, b), () =>
            new SwtpmControlResponse(SwtpmControlCommand.GetStateBlob) { TotalLength = 20, Data = new byte[20] }.Encode()),
        ["TPM response"] = (b =>
        {
            try
            {
                var r = TpmResponse.Decode(b, TpmCc.Quote, 0, true);
                var p = r.ParameterReader();
                p.ReadSized();
                TpmtSignature.Read(ref p);
            }
            catch (TpmResponseException)
            {
                // A flipped response code is a well-formed error response, not a parser failure.
            }
        }, QuoteResponse),
    };

    public static TheoryData<string> ParserNames => new(Parsers.Keys);

    [Theory]
    [MemberData(nameof(ParserNames))]
    public void Parse_TruncatedAtEveryOffset_ThrowsOnlyFormatException(string name)
    {
        var (parse, sample) = Parsers[name];
        byte[] full = sample();
        parse(full); // the untouched sample is valid
        for (int length = 0; length < full.Length; length++)
        {
            byte[] cut = full[..length];
            var e = Record.Exception(() => parse(cut));
            Assert.True(e is null or TpmFormatException, $"{name} cut at {length}: {e}");
        }
    }

    [Theory]
    [MemberData(nameof(ParserNames))]
    public void Parse_RandomByteFlips_ThrowsOnlyFormatException(string name)
    {
        var (parse, sample) = Parsers[name];
        byte[] full = sample();
        var random = new Random(name.Length * 7919);
        for (int round = 0; round < 3000; round++)
        {
            byte[] mutated = (byte[])full.Clone();
            int flips = 1 + random.Next(4);
            for (int i = 0; i < flips; i++)
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            var e = Record.Exception(() => parse(mutated));
            Assert.True(e is null or TpmFormatException, $"{name} round {round} ({Convert.ToHexString(mutated)}): {e}");
        }
    }

    private static CorpusQuote Quote() => CorpusQuote.Load("go-tpm-tools-gce-cos-85-nonce9009", "quote_sha256");

    /// <summary>
    /// Found by fuzzing (fuzz/corpus/tpm/crash-*): a TPMT_PUBLIC whose nameAlg is TPM_ALG_NULL (0x0010) or SM3
    /// (0x0012) parsed, then its Name escaped as NotSupportedException from the hash switch.
    /// </summary>
    [Theory]
    [InlineData("00010010030002ff0000ff384347801600101be19b8a88a9000177")]
    [InlineData("00010012030002ff0000eb382d45801600101bf79b8a0000000177")]
    public void ComputeName_NameAlgNotAComputableHash_ThrowsTpmFormatException(string hex)
    {
        TpmtPublic key = TpmtPublic.ParseEither(Convert.FromHexString(hex));

        var e = Assert.Throws<TpmFormatException>(() => key.ComputeName());
        Assert.Contains($"0x{(ushort)key.NameAlg:X4}", e.Message, StringComparison.Ordinal);
    }

    private static byte[] Sized(byte[] inner) => [(byte)(inner.Length >> 8), (byte)inner.Length, .. inner];

    private static byte[] QuoteResponse()
    {
        var q = Quote();
        var w = new TpmWriter();
        w.WriteUInt16((ushort)TpmSt.Sessions);
        w.WriteUInt32(0);
        w.WriteUInt32(0);
        int paramSizeAt = w.Length;
        w.WriteUInt32(0);
        w.WriteSized(q.Attest);
        w.WriteBytes(q.Signature);
        w.PatchUInt32(paramSizeAt, (uint)(w.Length - paramSizeAt - 4));
        w.WriteBytes([0, 0, 1, 0, 0]); // one TPMS_AUTH_RESPONSE: empty nonce, continueSession, empty hmac
        w.PatchUInt32(2, (uint)w.Length);
        return w.ToArray();
    }
}
