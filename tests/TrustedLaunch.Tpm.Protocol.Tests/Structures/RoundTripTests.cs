using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Protocol.Tests.Structures;

public sealed class RoundTripTests
{
    [Fact]
    public void TpmtPublic_CorpusAk_ParsesAndRemarshalsByteExact()
    {
        foreach (var q in CorpusQuote.All())
        {
            byte[] bytes = q.Ak.ToBytes();
            Assert.Equal(q.Ak, TpmtPublic.Parse(bytes));
            Assert.Equal(TpmAlgId.Rsa, q.Ak.Type);
            Assert.True(q.Ak.ObjectAttributes.HasFlag(TpmaObject.Restricted | TpmaObject.Sign));
        }
    }

    [Fact]
    public void TpmsAttest_CorpusQuotes_RemarshalByteExact()
    {
        foreach (var q in CorpusQuote.All())
        {
            var attest = TpmsAttest.Parse(q.Attest);
            Assert.Equal(q.Attest, attest.ToBytes());
            Assert.Equal(q.Signature, TpmtSignature.Parse(q.Signature).ToBytes());
        }
    }

    [Fact]
    public void EkTemplates_Marshalled_MatchTcgProfileBytes()
    {
        // EK Credential Profile 2.5 Table 2 (L-1): type, nameAlg, attributes 0x000300B2, policy, AES-128-CFB, NULL scheme, 2048, 0, 256 zero bytes.
        byte[] rsa = EkTemplates.RsaL1.ToBytes();
        Assert.Equal("0001000B000300B20020" + "837197674484B3F81A90CC8D46A5D724FD52D76E06520B64F2A1DA1B331469AA" + "0006008000430010080000000000" + "0100",
            Convert.ToHexString(rsa[..(rsa.Length - 256)]));
        Assert.All(rsa[^256..], b => Assert.Equal(0, b));
        byte[] ecc = EkTemplates.EccL2.ToBytes();
        Assert.Equal("0023000B000300B20020" + "837197674484B3F81A90CC8D46A5D724FD52D76E06520B64F2A1DA1B331469AA" + "00060080004300100003001000200000000000000000000000000000000000000000000000000000000000000000"
            + "00200000000000000000000000000000000000000000000000000000000000000000", Convert.ToHexString(ecc));
    }

    [Fact]
    public void PolicyA_RecomputedFromPolicySecretEndorsement_MatchesConstant()
    {
        // Part 3 §23.4: policyDigest' = H(policyDigest ‖ TPM_CC_PolicySecret ‖ authObject.Name), then H(that ‖ policyRef).
        byte[] step1 = System.Security.Cryptography.SHA256.HashData([.. new byte[32], 0x00, 0x00, 0x01, 0x51, .. TpmHandles.HandleName(TpmHandles.Endorsement)]);
        byte[] step2 = System.Security.Cryptography.SHA256.HashData(step1);
        Assert.Equal(EkTemplates.PolicyASha256.ToArray(), step2);
    }

    [Fact]
    public void TpmlPcrSelection_RoundTrip_KeepsOrderAndBitmap()
    {
        var sel = new TpmlPcrSelection([new TpmsPcrSelection(TpmAlgId.Sha256, [0, 7, 16, 23]), new TpmsPcrSelection(TpmAlgId.Sha1, [4])]);
        byte[] bytes = sel.ToBytes();
        Assert.Equal("00000002000B03810081000403100000", Convert.ToHexString(bytes));
        Assert.Equal(sel, TpmlPcrSelection.Parse(bytes));
        Assert.Equal([(TpmAlgId.Sha256, 0), (TpmAlgId.Sha256, 7), (TpmAlgId.Sha256, 16), (TpmAlgId.Sha256, 23), (TpmAlgId.Sha1, 4)], sel.Pcrs());
    }

    [Fact]
    public void Tpm2ToolsPcrFile_WriteParse_RoundTrips()
    {
        var sel = new TpmlPcrSelection([new TpmsPcrSelection(TpmAlgId.Sha256, Enumerable.Range(0, 24).ToArray()), new TpmsPcrSelection(TpmAlgId.Sha1, [2])]);
        var values = sel.Pcrs().ToDictionary(p => p, p => Enumerable.Repeat((byte)p.Index, TpmHashAlgorithm.DigestSize(p.Hash)).ToArray());
        byte[] file = Tpm2ToolsPcrFile.Write(sel, values);
        Assert.Equal(132 + 4 + (4 * 532), file.Length);
        var (parsedSel, parsedValues) = Tpm2ToolsPcrFile.Parse(file);
        Assert.Equal(sel, parsedSel);
        Assert.Equal(values.Count, parsedValues.Count);
        Assert.All(values, v => Assert.Equal(v.Value, parsedValues[v.Key]));
    }

    [Theory]
    [InlineData(0x0000u, "TPM_RC_SUCCESS", 0, 0, 0)]
    [InlineData(0x0100u, "TPM_RC_INITIALIZE", 0, 0, 0)]
    [InlineData(0x098Eu, "TPM_RC_AUTH_FAIL", 0, 0, 1)]
    [InlineData(0x01C4u, "TPM_RC_VALUE", 1, 0, 0)]
    [InlineData(0x02D2u, "TPM_RC_SCHEME", 2, 0, 0)]
    [InlineData(0x018Bu, "TPM_RC_HANDLE", 0, 1, 0)]
    [InlineData(0x0922u, "TPM_RC_RETRY", 0, 0, 0)]
    [InlineData(0x0902u, "TPM_RC_OBJECT_MEMORY", 0, 0, 0)]
    [InlineData(0x01DFu, "TPM_RC_INTEGRITY", 1, 0, 0)]
    [InlineData(0x003Du, "TPM_BAD_LOCALITY", 0, 0, 0)]
    [InlineData(0x0A000Au, "TSS_LAYER_10_RC_0x00A", 0, 0, 0)]
    public void TpmRc_KnownCodes_DecodeToNamesAndPositions(uint value, string name, int parameter, int handle, int session)
    {
        var rc = new TpmRc(value);
        Assert.Equal(name, rc.Name);
        Assert.Equal(parameter, rc.ParameterNumber);
        Assert.Equal(handle, rc.HandleNumber);
        Assert.Equal(session, rc.SessionNumber);
    }
}
