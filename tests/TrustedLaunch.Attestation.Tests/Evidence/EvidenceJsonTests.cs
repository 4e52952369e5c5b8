using System.Text;
using System.Text.Json.Nodes;
using TrustedLaunch.Attestation.Evidence;

namespace TrustedLaunch.Attestation.Tests.Evidence;

public sealed class EvidenceJsonTests
{
    private static AttestationEvidence Sample() => new()
    {
        Version = 1,
        VmId = "5b3c8a9e-2f51-4f5e-9a3b-0c6d7e8f9a10",
        Nonce = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
        Tpm = new TpmEvidence
        {
            AkPublic = [0x00, 0x03, 0x00, 0x23, 0x00],
            AkCertificate = [0x30, 0x82, 0x01],
            Quote = [0xff, 0x54, 0x43, 0x47],
            Signature = [0x00, 0x18],
            Pcrs =
            [
                new PcrBankValues { Bank = "sha256", Values = new Dictionary<int, string> { [0] = new string('a', 64), [7] = new string('0', 64) } },
                new PcrBankValues { Bank = "sha1", Values = new Dictionary<int, string> { [14] = new string('f', 40) } },
            ],
        },
        TcgLog = [9, 8, 7],
        Os = new OsIdentity { Id = "debian", VersionId = "12", KernelCommandLine = "root=/dev/vda1 ro" },
        Findings = [new GuestFinding { Kind = GuestFinding.Kinds.ModuleRejected, Module = "tl_unsigned", Message = "Loading of unsigned module is rejected", At = DateTimeOffset.UnixEpoch }],
        Agent = new AgentInfo { Version = "1.0.0", CollectedAt = new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero) },
    };

    private static JsonObject SampleNode() => JsonNode.Parse(EvidenceJson.Serialize(Sample()))!.AsObject();

    private static EvidenceFormatException ParseFails(JsonNode node) =>
        Assert.Throws<EvidenceFormatException>(() => EvidenceJson.Parse(Encoding.UTF8.GetBytes(node.ToJsonString())));

    [Fact]
    public void Serialize_Sample_UsesCamelCaseBase64AndHex()
    {
        JsonObject node = SampleNode();
        Assert.Equal(Convert.ToBase64String(Sample().Nonce), (string?)node["nonce"]);
        Assert.Equal("AAMAIwA=", (string?)node["tpm"]!["akPublic"]);
        Assert.Equal(new string('a', 64), (string?)node["tpm"]!["pcrs"]![0]!["values"]!["0"]);
        Assert.Null(node["imaLog"]);
        Assert.Equal("tl_unsigned", (string?)node["findings"]![0]!["module"]);
    }

    [Fact]
    public void Parse_SerializedSample_RoundTrips()
    {
        AttestationEvidence original = Sample();
        AttestationEvidence parsed = EvidenceJson.Parse(EvidenceJson.Serialize(original));
        Assert.Equal(original.Nonce, parsed.Nonce);
        Assert.Equal(original.Tpm.AkPublic, parsed.Tpm.AkPublic);
        Assert.Equal(original.Tpm.Pcrs[0].Values[7], parsed.Tpm.Pcrs[0].Values[7]);
        Assert.Equal(original.Os, parsed.Os);
        Assert.Equal(original.Findings[0], parsed.Findings[0]);
        Assert.Equal(original.Agent, parsed.Agent);
        Assert.Equal(EvidenceJson.Serialize(original), EvidenceJson.Serialize(parsed));
    }

    [Theory]
    [InlineData("nonce")]
    [InlineData("tpm")]
    [InlineData("agent")]
    [InlineData("findings")]
    public void Parse_MissingRequiredField_NamesIt(string field)
    {
        JsonObject node = SampleNode();
        node.Remove(field);
        EvidenceFormatException e = ParseFails(node);
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadBase64_NamesField()
    {
        JsonObject node = SampleNode();
        node["tpm"]!["quote"] = "not*base64";
        Assert.Equal("$.tpm.quote", ParseFails(node).Field);
    }

    [Theory]
    [InlineData("AAAA", "uppercase hex")]
    [InlineData("zz", "non-hex")]
    [InlineData("00", "wrong length")]
    public void Parse_BadPcrHex_NamesPcr(string replacement, string label)
    {
        JsonObject node = SampleNode();
        string good = (string)node["tpm"]!["pcrs"]![0]!["values"]!["7"]!;
        node["tpm"]!["pcrs"]![0]!["values"]!["7"] = replacement.Length == 2 && label == "wrong length" ? replacement : good[..^replacement.Length] + replacement;
        Assert.Equal("$.tpm.pcrs[0].values.7", ParseFails(node).Field);
    }

    [Fact]
    public void Parse_AkPublicSizeMismatch_Throws()
    {
        JsonObject node = SampleNode();
        node["tpm"]!["akPublic"] = Convert.ToBase64String(new byte[] { 0x00, 0x09, 0x00, 0x23 });
        Assert.Equal("$.tpm.akPublic", ParseFails(node).Field);
    }

    private static JsonObject BoundSampleNode()
    {
        AttestationEvidence sample = Sample();
        return JsonNode.Parse(EvidenceJson.Serialize(sample with
        {
            Tpm = sample.Tpm with
            {
                BoundKey = new BoundKeyEvidence
                {
                    Public = [0x00, 0x03, 0x00, 0x01, 0x00], CertifyInfo = [0xff, 0x54], Signature = [0x00, 0x14],
                    PolicyBank = "sha256", PolicyPcrs = [0, 7, 14],
                },
            },
        }))!.AsObject();
    }

    [Fact]
    public void Parse_BoundKey_RoundTripsAndIsOptional()
    {
        JsonObject node = BoundSampleNode();
        BoundKeyEvidence bound = EvidenceJson.Parse(Encoding.UTF8.GetBytes(node.ToJsonString())).Tpm.BoundKey!;
        Assert.Equal([0, 7, 14], bound.PolicyPcrs);
        Assert.Equal("sha256", bound.PolicyBank);
        Assert.Null(EvidenceJson.Parse(EvidenceJson.Serialize(Sample())).Tpm.BoundKey);
        Assert.Null(SampleNode()["tpm"]!["boundKey"]); // an unbound bundle serializes exactly as before
    }

    [Theory]
    [InlineData("public", "\"AAkAAQA=\"", "$.tpm.boundKey.public")]       // TPM2B size 9, 3 bytes follow
    [InlineData("certifyInfo", "\"\"", "$.tpm.boundKey.certifyInfo")]
    [InlineData("policyBank", "\"sha3_256\"", "$.tpm.boundKey.policyBank")]
    [InlineData("policyPcrs", "[]", "$.tpm.boundKey.policyPcrs")]
    [InlineData("policyPcrs", "[7,7]", "$.tpm.boundKey.policyPcrs")]
    [InlineData("policyPcrs", "[24]", "$.tpm.boundKey.policyPcrs")]
    public void Parse_BadBoundKey_NamesField(string member, string json, string field)
    {
        JsonObject node = BoundSampleNode();
        node["tpm"]!["boundKey"]![member] = JsonNode.Parse(json);
        Assert.Equal(field, ParseFails(node).Field);
    }

    [Theory]
    [InlineData("sha3_256")]
    [InlineData("SHA256")]
    public void Parse_UnknownBank_Throws(string bank)
    {
        JsonObject node = SampleNode();
        node["tpm"]!["pcrs"]![1]!["bank"] = bank;
        Assert.Equal("$.tpm.pcrs[1].bank", ParseFails(node).Field);
    }

    [Fact]
    public void Parse_WrongVersionOrShortNonce_Throws()
    {
        JsonObject node = SampleNode();
        node["version"] = 2;
        Assert.Equal("$.version", ParseFails(node).Field);
        node = SampleNode();
        node["nonce"] = Convert.ToBase64String(new byte[4]);
        Assert.Equal("$.nonce", ParseFails(node).Field);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("{")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"version\":1}")]
    public void Parse_Garbage_ThrowsTyped(string text)
    {
        Assert.Throws<EvidenceFormatException>(() => EvidenceJson.Parse(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void Parse_Truncated_ThrowsTypedAtEveryLength()
    {
        byte[] json = EvidenceJson.Serialize(Sample());
        for (int length = 0; length < json.Length; length += 7)
        {
            Assert.Throws<EvidenceFormatException>(() => EvidenceJson.Parse(json.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Parse_OverSizeLimit_ThrowsBeforeParsing()
    {
        byte[] huge = new byte[EvidenceJson.MaxDocumentBytes + 1];
        huge.AsSpan().Fill((byte)' ');
        EvidenceFormatException e = Assert.Throws<EvidenceFormatException>(() => EvidenceJson.Parse(huge));
        Assert.Contains("limit", e.Message, StringComparison.Ordinal);
    }
}
