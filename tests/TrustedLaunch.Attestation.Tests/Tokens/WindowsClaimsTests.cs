using System.Buffers;
using System.Text.Json;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Attestation.Tests.Tokens;

/// <summary>The azurevm Windows claims from a real Windows boot log (go-attestation's GCP Shielded VM capture, tests/corpus/public).</summary>
public sealed class WindowsClaimsTests
{
    private static readonly string Folder = Path.Combine(RepositoryPaths.CorpusRoot, "public", "go-attestation-windows_gcp_shielded_vm");

    private static BootStateSummary Summary(Func<PcrValue, bool>? published = null)
    {
        TcgEventLog log = TcgEventLog.Parse(File.ReadAllBytes(Path.Combine(Folder, "binary_bios_measurements")));
        IEnumerable<PcrValue> pcrs = PcrValue.ParseList(File.ReadAllText(Path.Combine(Folder, "pcrs.txt")));
        return BootStateSummarizer.Summarize(log, published is null ? pcrs : pcrs.Where(published));
    }

    private static JsonElement Claims(WindowsBootState windows, bool firmwareDebugMode = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            WindowsClaims.Write(w, windows, firmwareDebugMode);
            w.WriteEndObject();
        }

        using JsonDocument document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    [Fact]
    public void Write_GcpShieldedVmBoot_AzureClaimsFromTheMeasuredRecords()
    {
        BootStateSummary summary = Summary();
        Assert.True(summary.PcrValuesVerified);
        WindowsBootState windows = summary.Windows!;

        JsonElement claims = Claims(windows);

        Assert.True(claims.GetProperty(AttestationClaims.IsWindows).GetBoolean());
        Assert.Equal("Windows", claims.GetProperty(AttestationClaims.OsType).GetString());
        Assert.True(claims.GetProperty(AttestationClaims.ElamEnabled).GetBoolean()); // WdBoot's ELAM record
        Assert.Equal(0, claims.GetProperty(AttestationClaims.HvciPolicy).GetInt32());
        Assert.False(claims.GetProperty(AttestationClaims.TestSigningEnabled).GetBoolean());
        Assert.True(claims.GetProperty(AttestationClaims.DebuggersDisabled).GetBoolean());
        Assert.False(claims.TryGetProperty("x-ms-azurevm-flightsigning-enabled", out _)); // not decoded: never issued
        Assert.False(claims.TryGetProperty("x-ms-azurevm-signingdisabled", out _));
        JsonElement ours = claims.GetProperty(AttestationClaims.Windows);
        Assert.True(ours.GetProperty("codeIntegrity").GetBoolean());
        Assert.True(ours.GetProperty("dataExecutionPrevention").GetBoolean());
        Assert.False(ours.GetProperty("vbsConfigured").GetBoolean());
        Assert.Equal(windows.BitLockerUnlocks, ours.GetProperty("bitLockerUnlocks").EnumerateArray().Select(e => e.GetUInt32()));
        Assert.Equal(windows.ElamDrivers.Single().KeyName, ours.GetProperty("elamDrivers")[0].GetString());
    }

    [Fact]
    public void Write_AnyDebuggerOn_DebuggersNotDisabled()
    {
        WindowsBootState windows = Summary().Windows!;
        Assert.False(Claims(windows with { BootDebugging = true }).GetProperty(AttestationClaims.DebuggersDisabled).GetBoolean());
        Assert.False(Claims(windows with { KernelDebugging = true }).GetProperty(AttestationClaims.DebuggersDisabled).GetBoolean());
        Assert.False(Claims(windows with { HypervisorDebugging = true }).GetProperty(AttestationClaims.DebuggersDisabled).GetBoolean());
        Assert.False(Claims(windows, firmwareDebugMode: true).GetProperty(AttestationClaims.DebuggersDisabled).GetBoolean());
    }

    [Fact]
    public void Write_SwitchesNotMeasured_NoReassuringClaims()
    {
        JsonElement claims = Claims(Summary().Windows! with { BootDebugging = null, TestSigning = null, HypervisorDebugging = null });
        Assert.False(claims.TryGetProperty(AttestationClaims.DebuggersDisabled, out _));
        Assert.False(claims.TryGetProperty(AttestationClaims.TestSigningEnabled, out _));
        Assert.False(claims.TryGetProperty(AttestationClaims.HypervisorDebugEnabled, out _));
    }

    [Fact]
    public void Summary_WindowsPcrsNotQuoted_NoWindowsStateToClaimFrom()
    {
        // Only what the quote proves may become a claim: without PCRs 12-14 the SIPA records do not replay.
        Assert.Null(Summary(p => p.Index is < 12 or > 14).Windows);
    }
}
