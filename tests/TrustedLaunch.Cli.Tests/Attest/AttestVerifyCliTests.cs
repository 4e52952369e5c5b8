using System.Text;
using System.Text.Json;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Attest;

/// <summary>Runs <c>tl attest verify</c> on genuine golden evidence (see Golden/README.md): exit codes and output.</summary>
public sealed class AttestVerifyCliTests
{
    private const string SbNonce = "7f3a9c1e5b2d4f6081a3c5e7092b4d6f8193a5c7e9fb1d3f5577991133557799";
    private const string CmdlineNonce = "0123456789abcdef0123456789abcdef";
    private static readonly string Golden = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "TrustedLaunch.Cli.Tests", "Attest", "Golden");
    private static readonly string VmId = File.ReadAllText(Path.Combine(Golden, "vm-id.txt")).Trim();

    private static ToolResult Verify(string evidence, params string[] extra) =>
        TlRun.InProcess(["attest", "verify", "--evidence", evidence, "--ca", Path.Combine(Golden, "ca"), .. extra]);

    private static string Evidence(string name) => Path.Combine(Golden, name);

    [Fact]
    public void Verify_GenuineEvidence_ExitsZeroAndReportsChain()
    {
        ToolResult r = Verify(Evidence("evidence-sb.json"), "--vm-id", VmId, "--nonce", SbNonce);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("PASS", r.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Secure Boot: on", r.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("grubx64.efi", r.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("freshness was not checked", r.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_Json_CarriesVerdictReasonAndBootState()
    {
        ToolResult r = Verify(Evidence("evidence-sb.json"), "--vm-id", VmId, "--nonce", Convert.ToBase64String(Convert.FromHexString(SbNonce)), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using JsonDocument json = JsonDocument.Parse(r.StandardOutput);
        Assert.Equal("pass", json.RootElement.GetProperty("verdict").GetString());
        Assert.True(json.RootElement.GetProperty("nonceChecked").GetBoolean());
        Assert.True(json.RootElement.GetProperty("result").GetProperty("bootState").GetProperty("secureBootEnabled").GetBoolean());
    }

    [Fact]
    public void Verify_WrongNonce_ExitsOneNamingQuoteNonce()
    {
        ToolResult r = Verify(Evidence("evidence-sb.json"), "--vm-id", VmId, "--nonce", CmdlineNonce, "--json");
        Assert.True(r.ExitCode == 1, r.ToString());
        using JsonDocument json = JsonDocument.Parse(r.StandardOutput);
        Assert.Equal("QuoteInvalid", json.RootElement.GetProperty("reason").GetString());
        Assert.Equal("quote: nonce", json.RootElement.GetProperty("component").GetString());
    }

    [Fact]
    public void Verify_OtherVmId_ExitsOneAkNotFromThisVm()
    {
        ToolResult r = Verify(Evidence("evidence-sb.json"), "--vm-id", Guid.NewGuid().ToString(), "--nonce", SbNonce);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("AkNotFromThisVm [AK certificate: VM id]", r.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_LearnedBaselineThenChangedCmdline_ExitsOneNamingPcr8()
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-attest-cli");
        string baseline = Path.Combine(dir, "baseline.json");
        ToolResult learn = Verify(Evidence("evidence-sb.json"), "--vm-id", VmId, "--nonce", SbNonce, "--learn-baseline", baseline);
        Assert.True(learn.ExitCode == 0, learn.ToString());
        Assert.True(File.Exists(baseline));

        ToolResult r = Verify(Evidence("evidence-cmdline2.json"), "--vm-id", VmId, "--nonce", CmdlineNonce, "--baseline", baseline);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("BaselineDeviation [PCR 8]", r.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("kernel command line changed from", r.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("early boot Pass, late boot Fail", r.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_TokenKey_PrintsThreePartTokenAndCreatesKey()
    {
        string key = Path.Combine(RepositoryPaths.NewTempDirectory("tl-attest-cli"), "token.pem");
        ToolResult r = Verify(Evidence("evidence-sb.json"), "--vm-id", VmId, "--nonce", SbNonce, "--token-key", key, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using JsonDocument json = JsonDocument.Parse(r.StandardOutput);
        Assert.Equal(3, json.RootElement.GetProperty("token").GetString()!.Split('.').Length);
        Assert.Contains("BEGIN PRIVATE KEY", File.ReadAllText(key), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
    }

    [Fact]
    public void VerifyToken_TheIssuedToken_ValidForItsVmOnly()
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-attest-cli");
        string key = Path.Combine(dir, "token.pem");
        ToolResult issued = Verify(Evidence("evidence-sb.json"), "--vm-id", VmId, "--nonce", SbNonce, "--token-key", key, "--json");
        Assert.True(issued.ExitCode == 0, issued.ToString());
        string token;
        using (JsonDocument json = JsonDocument.Parse(issued.StandardOutput))
            token = json.RootElement.GetProperty("token").GetString()!;
        string jwks = Path.Combine(dir, "certs.json");
        using (var signing = TrustedLaunch.Attestation.TokenSigningKey.FromPem(File.ReadAllText(key)))
            File.WriteAllBytes(jwks, signing.ToJwks());
        string[] check = ["attest", "verify-token", "--token", token, "--jwks", jwks, "--issuer", "https://localhost/trustedlaunch"];

        ToolResult valid = TlRun.InProcess([.. check, "--vm-id", VmId]);
        Assert.True(valid.ExitCode == 0, valid.ToString());
        Assert.StartsWith("valid: ES256", valid.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("secure boot true", valid.StandardOutput, StringComparison.Ordinal);

        ToolResult otherVm = TlRun.InProcess([.. check, "--vm-id", "0c7e9a4d-0000-4000-8000-000000000001", "--json"]);
        Assert.True(otherVm.ExitCode == 1, otherVm.ToString());
        using (JsonDocument refusal = JsonDocument.Parse(otherVm.StandardOutput))
            Assert.Equal("WrongVm", refusal.RootElement.GetProperty("reason").GetString());

        ToolResult otherIssuer = TlRun.InProcess(["attest", "verify-token", "--token", token, "--jwks", jwks, "--issuer", "https://attest.example"]);
        Assert.True(otherIssuer.ExitCode == 1, otherIssuer.ToString());
        Assert.Contains("WrongIssuer", otherIssuer.StandardOutput, StringComparison.Ordinal);

        ToolResult noKeys = TlRun.InProcess(["attest", "verify-token", "--token", token, "--jwks", Path.Combine(dir, "missing.json"), "--issuer", "x"]);
        Assert.True(noKeys.ExitCode == 2, noKeys.ToString());
        ToolResult both = TlRun.InProcess([.. check, "--token-file", key]);
        Assert.True(both.ExitCode == 2, both.ToString());
    }

    [Theory]
    [InlineData("garbage", "not json at all")]
    [InlineData("truncated", null)]
    [InlineData("empty", "")]
    public void Verify_MalformedEvidence_ExitsTwo(string label, string? content)
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory("tl-attest-cli"), label + ".json");
        byte[] genuine = File.ReadAllBytes(Evidence("evidence-sb.json"));
        File.WriteAllBytes(path, content is null ? genuine[..(genuine.Length / 2)] : Encoding.UTF8.GetBytes(content));
        ToolResult r = Verify(path, "--vm-id", VmId, "--nonce", SbNonce);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("malformed evidence", r.StandardError + r.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--nonce", "zz-not-a-nonce")]
    [InlineData("--vm-id", "not-a-guid")]
    [InlineData("--ca", "/nonexistent")]
    public void Verify_BadInput_ExitsTwo(string option, string value)
    {
        var args = new List<string> { "--vm-id", VmId, "--nonce", SbNonce };
        int at = args.IndexOf(option);
        if (at >= 0)
            args[at + 1] = value;
        ToolResult r = option == "--ca"
            ? TlRun.InProcess(["attest", "verify", "--evidence", Evidence("evidence-sb.json"), "--ca", value, .. args])
            : Verify(Evidence("evidence-sb.json"), [.. args]);
        Assert.True(r.ExitCode == 2, r.ToString());
    }
}
