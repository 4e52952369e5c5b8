using System.Security.Cryptography.X509Certificates;
using System.Text;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel.Framing;
using TrustedLaunch.GuestChannel.Host;
using TrustedLaunch.GuestChannel.Messages;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;

namespace TrustedLaunch.GuestAgent.Tests;

/// <summary>The agent (in-process) against a real swtpm with a tl-vtpm-style AK, over a Unix socket.</summary>
[IntegrationTest]
public sealed class AttestationAgentTests
{
    private static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "KernelLog", "Golden", name);

    private static Dictionary<(TpmAlgId Hash, int Index), byte[]> PcrValues(AttestationEvidence evidence) =>
        evidence.Tpm.Pcrs.SelectMany(bank =>
        {
            Assert.True(EvidenceJson.TryParseBank(bank.Bank, out TpmAlgId alg));
            return bank.Values.Select(v => (Key: (alg, v.Key), Value: Convert.FromHexString(v.Value)));
        }).ToDictionary(p => p.Key, p => p.Value);

    [Fact]
    public async Task RequestEvidence_SwtpmWithThreeBanks_QuoteVerifiesForTheNonceOverPcrs0To9And14InEveryBank()
    {
        using var tpm = ProvisionedSwtpm.Start(GuestRoot.VmId, TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384);
        await using var harness = AgentHarness.Start(tpm.Tcti, kernelLog: Golden("kmsg-debian12-secureboot-on.txt"));
        await using GuestAgentConnection host = await harness.AcceptAsync();
        byte[] nonce = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        AttestationEvidence evidence = await host.RequestEvidenceAsync(nonce, TimeSpan.FromSeconds(60));

        Assert.Equal(nonce, evidence.Nonce);
        TpmtPublic ak = TpmtPublic.Parse(evidence.Tpm.AkPublic.AsSpan(2));
        QuoteVerification verified = QuoteVerifier.Verify(ak, evidence.Tpm.Quote, evidence.Tpm.Signature, nonce, true, PcrValues(evidence));
        Assert.True(verified.IsValid, verified.Detail);
        var quoted = (TpmsQuoteInfo)verified.Attest!.Attested;
        Assert.Equal(new[] { TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384 }, quoted.PcrSelect.Selections.Select(s => s.Hash).Order());
        Assert.All(quoted.PcrSelect.Selections, s => Assert.Equal(AttestRequest.DefaultPcrs, s.Indices));
        Assert.Equal(["sha1", "sha256", "sha384"], evidence.Tpm.Pcrs.Select(b => b.Bank).Order());

        // The values are the TPM's, read independently, and a different nonce does not verify.
        using (TpmClient direct = tpm.Connect())
        {
            foreach (var ((bank, index), value) in direct.ReadPcrs(quoted.PcrSelect))
                Assert.Equal(value, PcrValues(evidence)[(bank, index)]);
            Assert.Equal(direct.ReadPublic(0x81000003).PublicBytes, evidence.Tpm.AkPublic[2..]);
        }

        byte[] otherNonce = (byte[])nonce.Clone();
        otherNonce[0] ^= 1;
        Assert.Equal(QuoteFailure.QualifyingDataMismatch,
            QuoteVerifier.Verify(ak, evidence.Tpm.Quote, evidence.Tpm.Signature, otherNonce, true, PcrValues(evidence)).Failure);

        // The AK certificate is the one provisioned, chains to the platform AK CA, and certifies this AK.
        Assert.Equal(tpm.AkCertificate.RawData, evidence.Tpm.AkCertificate);
        using var certificate = X509CertificateLoader.LoadCertificate(evidence.Tpm.AkCertificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ProvisionedSwtpm.Ca.RootCertificate);
        chain.ChainPolicy.ExtraStore.Add(ProvisionedSwtpm.Ca.AttestationKeyCa.Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(certificate), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        using var certKey = certificate.GetRSAPublicKey()!;
        Assert.Equal(ak.Unique, certKey.ExportParameters(false).Modulus);

        // Everything else in the bundle comes from the guest's files.
        string root = harness.Agent.System.Root;
        Assert.Equal(File.ReadAllBytes(Path.Combine(root, GuestSystem.TcgLogPath.TrimStart('/'))), evidence.TcgLog);
        Assert.Null(evidence.ImaLog);
        Assert.Equal(GuestRoot.VmId, evidence.VmId);
        Assert.Equal(("debian", "12", "6.1.0-56-amd64"), (evidence.Os!.Id, evidence.Os.VersionId, evidence.Os.KernelRelease));
        Assert.Equal("BOOT_IMAGE=/vmlinuz console=ttyS0 quiet panic=-1", evidence.Os.KernelCommandLine);
        GuestFinding finding = Assert.Single(evidence.Findings);
        Assert.Equal((GuestFinding.Kinds.ModuleRejected, "unsigned_ttyprintk"), (finding.Kind, finding.Module));
        Assert.Contains(host.Findings, f => f.Module == "unsigned_ttyprintk"); // also pushed on connect
        Assert.Equal(AgentOptions.Version, evidence.Agent.Version);
    }

    [Fact]
    public async Task RequestEvidence_ChosenPcrsAndTaintedKernel_QuotesOnlyThoseAndReportsTheTaint()
    {
        using var tpm = ProvisionedSwtpm.Start(GuestRoot.VmId, TpmAlgId.Sha256);
        await using var harness = AgentHarness.Start(tpm.Tcti, systemRoot: GuestRoot.Create(tainted: "12288\n"));
        await using GuestAgentConnection host = await harness.AcceptAsync();
        byte[] nonce = new byte[8];
        AttestationEvidence evidence = await host.RequestEvidenceAsync(nonce, TimeSpan.FromSeconds(60), pcrs: [7, 4]);
        PcrBankValues bank = Assert.Single(evidence.Tpm.Pcrs);
        Assert.Equal([4, 7], bank.Values.Keys.Order());
        var verified = QuoteVerifier.Verify(TpmtPublic.Parse(evidence.Tpm.AkPublic.AsSpan(2)), evidence.Tpm.Quote, evidence.Tpm.Signature, nonce, true, PcrValues(evidence));
        Assert.True(verified.IsValid, verified.Detail);
        GuestFinding taint = Assert.Single(evidence.Findings);
        Assert.Equal(GuestFinding.Kinds.Taint, taint.Kind);
        Assert.Equal("kernel taint 0x3000: O (out-of-tree module loaded) E (unsigned module loaded)", taint.Message);
    }

    [Fact]
    public async Task Serve_MalformedRequests_AnswersErrorsAndKeepsServing()
    {
        using var tpm = ProvisionedSwtpm.Start(GuestRoot.VmId, TpmAlgId.Sha256);
        await using var harness = AgentHarness.Start(tpm.Tcti);
        await using GuestFrameChannel frames = await harness.AcceptFramesAsync();
        Assert.Equal(HeartbeatStatus.Ready, ((HeartbeatMessage)await AgentHarness.NextAsync(frames, m => m is HeartbeatMessage)).Status);

        (string Payload, string Code, long? Id)[] bad =
        [
            ("this is not json", GuestErrorCodes.MalformedMessage, null),
            ("[\"attest\"]", GuestErrorCodes.MalformedMessage, null),
            ("{\"type\":\"attest\",\"id\":11,\"nonce\":\"AQ==\"}", GuestErrorCodes.MalformedMessage, 11),
            ("{\"type\":\"attest\",\"id\":12,\"nonce\":\"AAAAAAAAAAA=\",\"pcrs\":[99]}", GuestErrorCodes.MalformedMessage, 12),
            ("{\"type\":\"reboot\",\"id\":13}", GuestErrorCodes.UnknownType, 13),
            ("{\"type\":\"evidence\",\"id\":14,\"evidence\":{}}", GuestErrorCodes.MalformedMessage, 14),
            ("{\"type\":\"heartbeat\",\"id\":15,\"status\":\"ready\",\"uptimeSeconds\":1,\"agentVersion\":\"x\"}", GuestErrorCodes.UnknownType, 15),
        ];
        foreach (var (payload, code, id) in bad)
        {
            await frames.WriteAsync(Encoding.UTF8.GetBytes(payload));
            var error = (ErrorMessage)await AgentHarness.NextAsync(frames, m => m is ErrorMessage);
            Assert.Equal((code, id), (error.Code, error.Id));
        }

        await frames.WriteAsync(GuestMessageCodec.Encode(new PingRequest(20)));
        Assert.Equal(20, (await AgentHarness.NextAsync(frames, m => m is HeartbeatMessage { Id: not null })).Id);
        await frames.WriteAsync(GuestMessageCodec.Encode(new AttestRequest(21, new byte[16])));
        var evidence = (EvidenceMessage)await AgentHarness.NextAsync(frames, m => m.Id == 21);
        Assert.Equal(new byte[16], evidence.Evidence.Nonce);
        Assert.Equal(1, harness.Agent.Sessions);
    }

    [Fact]
    public async Task Serve_BrokenFrameHeader_SaysWhyThenReconnectsAndServes()
    {
        using var tpm = ProvisionedSwtpm.Start(GuestRoot.VmId, TpmAlgId.Sha256);
        await using var harness = AgentHarness.Start(tpm.Tcti);
        await using (GuestFrameChannel frames = await harness.AcceptFramesAsync())
        {
            await AgentHarness.NextAsync(frames, m => m is HeartbeatMessage);
            await frames.WriteAsync(new byte[GuestFrame.MaxPayloadBytes]); // legal size, zero bytes: not JSON
            Assert.Equal(GuestErrorCodes.MalformedMessage, ((ErrorMessage)await AgentHarness.NextAsync(frames, m => m is ErrorMessage)).Code);
        }

        // A length prefix beyond the limit cannot be skipped: the agent reports it, drops the session and comes back.
        var socketFrames = await ReconnectAfterGarbageAsync(harness);
        await using GuestAgentConnection again = GuestAgentConnection.Over(socketFrames);
        Assert.Equal(HeartbeatStatus.Ready, (await again.PingAsync(TimeSpan.FromSeconds(20))).Status);
        Assert.True(harness.Agent.Sessions >= 3, $"sessions: {harness.Agent.Sessions}");
    }

    private static async Task<Stream> ReconnectAfterGarbageAsync(AgentHarness harness)
    {
        Stream accepted = await harness.AcceptStreamAsync();
        await accepted.WriteAsync("GARBAGE!"u8.ToArray()); // "GARB" = 0x47415242 bytes: over the limit
        var frames = new GuestFrameChannel(accepted, ownsStream: false);
        var error = (ErrorMessage)await AgentHarness.NextAsync(frames, m => m is ErrorMessage);
        Assert.Equal(GuestErrorCodes.MalformedMessage, error.Code);
        Assert.Contains("limit", error.Message, StringComparison.Ordinal);
        Assert.Null(await ReadUntilClosedAsync(frames));
        return await harness.AcceptStreamAsync();
    }

    private static async Task<byte[]?> ReadUntilClosedAsync(GuestFrameChannel frames)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            while (await frames.ReadAsync(cts.Token) is { } payload)
                _ = payload;
        }
        catch (IOException)
        {
            // Closed with our unread bytes still queued on its side: the kernel resets instead of a clean EOF.
        }

        return null;
    }

    [Fact]
    public async Task Run_HostAbsentAtStart_RetriesWithBackoffAndConnectsWhenItAppears()
    {
        using var tpm = ProvisionedSwtpm.Start(GuestRoot.VmId, TpmAlgId.Sha256);
        await using var harness = AgentHarness.Start(tpm.Tcti, listen: false);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(harness.Run.IsCompleted, "the agent must not exit while the host is absent");
        Assert.Equal(0, harness.Agent.Sessions);
        harness.Listen();
        await using GuestAgentConnection host = await harness.AcceptAsync(TimeSpan.FromSeconds(10)); // max backoff is 0.5 s
        AttestationEvidence evidence = await host.RequestEvidenceAsync(new byte[12], TimeSpan.FromSeconds(60));
        Assert.Equal(new byte[12], evidence.Nonce);
    }

    [Fact]
    public async Task Run_HostGoesAwayAndComesBack_ReconnectsAndResendsFindings()
    {
        using var tpm = ProvisionedSwtpm.Start(GuestRoot.VmId, TpmAlgId.Sha256);
        await using var harness = AgentHarness.Start(tpm.Tcti, kernelLog: Golden("kmsg-debian12-secureboot-off.txt"),
            systemRoot: GuestRoot.Create(tainted: "8192\n"));
        await using (GuestAgentConnection first = await harness.AcceptAsync())
            await first.PingAsync(TimeSpan.FromSeconds(20));
        await using GuestAgentConnection second = await harness.AcceptAsync();
        await second.PingAsync(TimeSpan.FromSeconds(20));
        Assert.Contains(second.Findings, f => f is { Kind: GuestFinding.Kinds.ModuleUnsignedLoaded, Module: "ttyprintk" });
        Assert.Equal(2, harness.Agent.Sessions);
    }

    [Fact]
    public async Task Heartbeat_ShortInterval_ArrivesRepeatedlyAndSaysWhetherTheTpmIsReachable()
    {
        using var tpm = ProvisionedSwtpm.Start(GuestRoot.VmId, TpmAlgId.Sha256);
        await using var harness = AgentHarness.Start(tpm.Tcti, heartbeat: TimeSpan.FromMilliseconds(300));
        await using GuestAgentConnection host = await harness.AcceptAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.InRange(host.Heartbeats.Count, 4, 12);
        Assert.All(host.Heartbeats, h => Assert.Equal((HeartbeatStatus.Ready, AgentOptions.Version, 1), (h.Status, h.AgentVersion, h.ProtocolVersion)));

        string missing = Path.Combine(RepositoryPaths.NewTempDirectory("tl-agent-notpm"), "none.sock");
        await using var broken = AgentHarness.Start($"swtpm:path={missing}");
        await using GuestAgentConnection brokenHost = await broken.AcceptAsync();
        Assert.Equal(HeartbeatStatus.NotReady, (await brokenHost.PingAsync(TimeSpan.FromSeconds(20))).Status);
        var e = await Assert.ThrowsAsync<GuestAgentErrorException>(() => brokenHost.RequestEvidenceAsync(new byte[8], TimeSpan.FromSeconds(20)));
        Assert.Equal(GuestErrorCodes.TpmUnavailable, e.Code);
    }
}
