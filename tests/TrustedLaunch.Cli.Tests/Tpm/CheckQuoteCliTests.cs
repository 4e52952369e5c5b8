using System.Globalization;
using System.Text.Json;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Cli.Tests.Tpm;

/// <summary>
/// <c>tl tpm checkquote</c> against <c>tpm2_checkquote</c> on the same files: real quotes from the corpus (GCE vTPM,
/// Windows Shielded VM), good and tampered. Verdicts must agree; exit codes are 0 verified, 1 not, 2 bad input.
/// </summary>
public sealed class CheckQuoteCliTests : IDisposable
{
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-checkquote");

    public static TheoryData<string, string> CorpusQuotes => new()
    {
        { "go-tpm-tools-gce-cos-85-nonce9009", "quote_sha1" },
        { "go-tpm-tools-gce-cos-85-nonce9009", "quote_sha256" },
        { "go-tpm-tools-gce-cos-85-nonce9009", "quote_sha384" },
        { "go-tpm-tools-gce-cos-85-no-nonce", "quote_sha256" },
        { "go-attestation-windows_gcp_shielded_vm", "quote" },
    };

    [IntegrationTest]
    [Theory]
    [MemberData(nameof(CorpusQuotes))]
    public void CheckQuote_CorpusQuote_AgreesWithTpm2CheckQuoteGoodAndTampered(string folder, string quote)
    {
        string nonceHex = Prepare(folder, quote);
        string[] args = ["-u", P("ak.pub"), "-m", P("q.msg"), "-s", P("q.sig"), "-f", P("q.pcrs"), "-q", nonceHex];

        Assert.Equal(0, Tl(["tpm", "checkquote", .. args]).ExitCode);
        Assert.Equal(0, ExternalTool.Run("tpm2_checkquote", args, _dir).ExitCode);

        // A wrong nonce.
        string[] wrongNonce = [.. args[..^1], "0badc0de"];
        Assert.Equal(1, Tl(["tpm", "checkquote", .. wrongNonce]).ExitCode);
        Assert.NotEqual(0, ExternalTool.Run("tpm2_checkquote", wrongNonce, _dir).ExitCode);

        // A PCR value that differs from what was quoted.
        byte[] pcrs = File.ReadAllBytes(P("q.pcrs"));
        pcrs[132 + 4 + 4 + 2] ^= 0x01; // first byte of the first digest in the first TPML_DIGEST
        File.WriteAllBytes(P("q.pcrs"), pcrs);
        Assert.Equal(1, Tl(["tpm", "checkquote", .. args]).ExitCode);
        Assert.NotEqual(0, ExternalTool.Run("tpm2_checkquote", args, _dir).ExitCode);

        // A flipped bit in the signed message.
        pcrs[132 + 4 + 4 + 2] ^= 0x01;
        File.WriteAllBytes(P("q.pcrs"), pcrs);
        byte[] msg = File.ReadAllBytes(P("q.msg"));
        msg[^3] ^= 0x40;
        File.WriteAllBytes(P("q.msg"), msg);
        Assert.Equal(1, Tl(["tpm", "checkquote", .. args]).ExitCode);
        Assert.NotEqual(0, ExternalTool.Run("tpm2_checkquote", args, _dir).ExitCode);
    }

    [Fact]
    public void CheckQuote_PemKeyAndJson_ReportsVerifiedQuote()
    {
        string nonceHex = Prepare("go-tpm-tools-gce-cos-85-nonce9009", "quote_sha256");
        var ak = TpmtPublic.ParseEither(File.ReadAllBytes(P("ak.pub")));
        using (var rsa = ak.ToRsa())
            File.WriteAllText(P("ak.pem"), rsa.ExportSubjectPublicKeyInfoPem());
        var run = Tl(["tpm", "checkquote", "--public", P("ak.pem"), "--message", P("q.msg"), "--signature", P("q.sig"),
            "--pcr", P("q.pcrs"), "--qualification", nonceHex, "--hash-algorithm", "sha256", "--json"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.StandardOutput);
        Assert.True(doc.RootElement.GetProperty("verified").GetBoolean());
        Assert.Equal("none", doc.RootElement.GetProperty("failure").GetString());
        Assert.Equal("9009", doc.RootElement.GetProperty("extraData").GetString());
        Assert.Equal(24, doc.RootElement.GetProperty("pcrs").GetArrayLength());
    }

    [Fact]
    public void CheckQuote_MalformedOrMissingInputs_ExitTwo()
    {
        Prepare("go-tpm-tools-gce-cos-85-nonce9009", "quote_sha256");
        File.WriteAllBytes(P("junk"), [0xFF, 0x54, 0x43, 0x47, 0x80]);
        Assert.Equal(2, Tl(["tpm", "checkquote", "-u", P("ak.pub"), "-m", P("junk"), "-s", P("q.sig")]).ExitCode);
        Assert.Equal(2, Tl(["tpm", "checkquote", "-u", P("ak.pub"), "-m", P("q.msg"), "-s", P("junk")]).ExitCode);
        Assert.Equal(2, Tl(["tpm", "checkquote", "-u", P("junk"), "-m", P("q.msg"), "-s", P("q.sig")]).ExitCode);
        Assert.Equal(2, Tl(["tpm", "checkquote", "-u", P("ak.pub"), "-m", P("missing"), "-s", P("q.sig")]).ExitCode);
        Assert.Equal(2, Tl(["tpm", "checkquote", "-u", P("ak.pub"), "-m", P("q.msg")]).ExitCode);
        Assert.Equal(2, Tl(["tpm", "checkquote", "-u", P("ak.pub"), "-m", P("q.msg"), "-s", P("q.sig"), "-f", P("junk")]).ExitCode);
        // Without -f and -q only the signature, magic and type are checked, as tpm2_checkquote does.
        Assert.Equal(0, Tl(["tpm", "checkquote", "-u", P("ak.pub"), "-m", P("q.msg"), "-s", P("q.sig")]).ExitCode);
    }

    /// <summary>Writes ak.pub (TPM2B_PUBLIC), q.msg, q.sig and q.pcrs (tpm2_quote -o layout) for one corpus quote; returns the nonce hex.</summary>
    private string Prepare(string folder, string quote)
    {
        string src = Path.Combine(RepositoryPaths.CorpusRoot, "public", folder);
        byte[] akBare = File.ReadAllBytes(Path.Combine(src, "ak.pub"));
        File.WriteAllBytes(P("ak.pub"), [(byte)(akBare.Length >> 8), (byte)akBare.Length, .. akBare]);
        byte[] attest = File.ReadAllBytes(Path.Combine(src, quote + ".bin"));
        File.WriteAllBytes(P("q.msg"), attest);
        File.Copy(Path.Combine(src, quote + ".sig"), P("q.sig"), overwrite: true);
        var selection = ((TpmsQuoteInfo)TpmsAttest.Parse(attest).Attested).PcrSelect;
        var values = new Dictionary<(TpmAlgId, int), byte[]>();
        foreach (string line in File.ReadAllLines(Path.Combine(src, "pcrs.txt")))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3 && TpmHashAlgorithm.TryParseBankName(f[0], out var bank))
                values[(bank, int.Parse(f[1], CultureInfo.InvariantCulture))] = Convert.FromHexString(f[2]);
        }

        File.WriteAllBytes(P("q.pcrs"), Tpm2ToolsPcrFile.Write(selection, values));
        string nonce = Path.Combine(src, "nonce.bin");
        return File.Exists(nonce) ? Convert.ToHexString(File.ReadAllBytes(nonce)) : "";
    }

    private string P(string name) => Path.Combine(_dir, name);

    private static ToolResult Tl(string[] args) => TlRun.InProcess(args);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Leftover scratch files do not fail a test.
        }
    }
}
