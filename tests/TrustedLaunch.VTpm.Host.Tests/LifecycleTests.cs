using System.Net.Sockets;
using System.Security.Cryptography;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Protocol.Swtpm;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.VTpm.Host.Tests;

[IntegrationTest]
public sealed class LifecycleTests
{
    private const uint TestIndex = 0x01500010;

    [Fact]
    public void Restart_KeepsIdentityAndNv_ResetsPcrs()
    {
        ManufacturedVTpm vtpm = ManufacturedVTpm.Create("vm-restart");
        byte[] secret = RandomNumberGenerator.GetBytes(48);
        string ekName;
        using (var server = TlVtpmServer.Start(vtpm))
        {
            using TpmClient client = server.Client();
            ekName = Convert.ToHexStringLower(client.ReadPublic(VTpmLayout.EkRsa.PersistentHandle).Name);
            client.NvDefineSpace(new TpmsNvPublic(TestIndex, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead, [], 48));
            client.NvWrite(TestIndex, secret, authHandle: TpmHandles.Owner);
            client.PcrExtend(16, [new TpmtHa(TpmAlgId.Sha256, new byte[32])]);
            Assert.NotEqual(new byte[32], Pcr16(client));
            Assert.Equal(0, server.Terminate());
        }

        using (var server = TlVtpmServer.Start(vtpm))
        {
            using TpmClient client = server.Client();
            Assert.Equal(vtpm.Identity.Key("ek-rsa2048").Name, ekName);
            Assert.Equal(ekName, Convert.ToHexStringLower(client.ReadPublic(VTpmLayout.EkRsa.PersistentHandle).Name));
            Assert.Equal(secret, client.NvRead(TestIndex, 48, authHandle: TpmHandles.Owner));
            Assert.Equal(new byte[32], Pcr16(client)); // Startup(CLEAR) after a restart: PCRs start over
        }
    }

    [Fact]
    public void DataConnection_Ends_LogsItsCommandsBytesAndStateWrites()
    {
        // What docs/benchmarks.md reads per boot: every command by code with its time, and the durable state writes.
        ManufacturedVTpm vtpm = ManufacturedVTpm.Create("vm-tally");
        using var server = TlVtpmServer.Start(vtpm);
        using (TpmClient client = server.Client())
        {
            for (int i = 0; i < 3; i++)
                client.PcrExtend(16, [new TpmtHa(TpmAlgId.Sha256, new byte[32])]);
            client.NvDefineSpace(new TpmsNvPublic(TestIndex, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead, [], 8));
            client.NvWrite(TestIndex, new byte[8], authHandle: TpmHandles.Owner);
        }

        // The server logs when it reads the end of the connection, on its own thread: wait for that before stopping it.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!File.ReadAllText(server.LogPath).Contains("data channel: ", StringComparison.Ordinal) && waited.Elapsed < TimeSpan.FromSeconds(10))
            Thread.Sleep(20);
        Assert.Equal(0, server.Terminate());
        string line = Assert.Single(File.ReadAllLines(server.LogPath), l => l.Contains("data channel: ", StringComparison.Ordinal));
        var tally = System.Text.RegularExpressions.Regex.Match(line,
            @"data channel: (?<commands>\d+) commands, (?<in>\d+) bytes in, (?<out>\d+) bytes out, [\d.]+ ms executing; (?<writes>\d+) state writes");
        Assert.True(tally.Success, line);
        Assert.True(int.Parse(tally.Groups["commands"].Value, System.Globalization.CultureInfo.InvariantCulture) >= 5, line);
        Assert.True(int.Parse(tally.Groups["writes"].Value, System.Globalization.CultureInfo.InvariantCulture) >= 2, line); // define + write
        Assert.Matches(@" PCR_Extend=3/[\d.]+ms", line);
        Assert.Matches(@" NV_DefineSpace=1/[\d.]+ms", line);
        Assert.Matches(@" NV_Write=1/[\d.]+ms", line);
    }

    [Theory]
    [InlineData(20, true)]
    [InlineData(5, false)]
    public void DataCommands_AtLevel20_OneLineEachInOrder(int level, bool logged)
    {
        // The per-command lines that are set against QEMU's tpm_* trace of a boot (docs/benchmarks.md): in order, PCR named.
        ManufacturedVTpm vtpm = ManufacturedVTpm.Create("vm-cmdlog");
        using var server = TlVtpmServer.StartLogging(vtpm, level);
        using (TpmClient client = server.Client())
        {
            client.PcrExtend(16, [new TpmtHa(TpmAlgId.Sha256, new byte[32])]);
            _ = Pcr16(client);
        }

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!File.ReadAllText(server.LogPath).Contains("data channel: ", StringComparison.Ordinal) && waited.Elapsed < TimeSpan.FromSeconds(10))
            Thread.Sleep(20);
        Assert.Equal(0, server.Terminate());
        string[] commands = File.ReadAllLines(server.LogPath).Where(l => l.Contains(" cmd: ", StringComparison.Ordinal)).ToArray();
        if (!logged)
        {
            Assert.Empty(commands);
            return;
        }

        Assert.Equal(2, commands.Length);
        Assert.Matches(@" cmd: PCR_Extend PCR 16 \(\d+ bytes\) -> rc 0x0 \(\d+ bytes\) in [\d.]+ ms$", commands[0]);
        Assert.Matches(@" cmd: PCR_Read \(\d+ bytes\) -> rc 0x0 \(\d+ bytes\) in [\d.]+ ms$", commands[1]);
    }

    [Fact]
    public void SeveralInstances_AtOnce_HaveDistinctIdentities()
    {
        ManufacturedVTpm[] vtpms = Enumerable.Range(0, 3).Select(i => ManufacturedVTpm.Create($"vm-multi-{i}")).ToArray();
        var servers = vtpms.AsParallel().Select(v => TlVtpmServer.Start(v)).ToArray();
        try
        {
            var names = servers.AsParallel().AsOrdered().Select(s =>
            {
                using TpmClient client = s.Client();
                for (int i = 0; i < 50; i++)
                    client.PcrExtend(16, [new TpmtHa(TpmAlgId.Sha256, RandomNumberGenerator.GetBytes(32))]);
                return Convert.ToHexStringLower(client.ReadPublic(VTpmLayout.EkRsa.PersistentHandle).Name);
            }).ToArray();
            Assert.Equal(vtpms.Select(v => v.Identity.Key("ek-rsa2048").Name), names);
            Assert.Equal(3, names.Distinct().Count());
        }
        finally
        {
            foreach (var s in servers)
                s.Dispose();
        }
    }

    [Theory]
    [InlineData("missing", "does not exist")]
    [InlineData("truncated", "truncated")]
    [InlineData("tampered", "tampered")]
    [InlineData("wrong key", "key does not match")]
    [InlineData("not sealed", "not a TrustedLaunch sealed blob")]
    public void Start_BadState_RefusesWithReasonAndExit4(string damage, string expected)
    {
        ManufacturedVTpm vtpm = ManufacturedVTpm.Create("vm-damage");
        byte[] good = File.ReadAllBytes(vtpm.StatePath);
        string key = vtpm.KeyPath;
        switch (damage)
        {
            case "missing":
                File.Delete(vtpm.StatePath);
                break;
            case "truncated":
                File.WriteAllBytes(vtpm.StatePath, good[..(good.Length / 2)]);
                break;
            case "tampered":
                // Every record the file holds (the state file keeps two slots after a 4 KiB header).
                int slotSize = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(good.AsSpan(8));
                good[4096 + 100] ^= 1;
                good[4096 + slotSize + 100] ^= 1;
                File.WriteAllBytes(vtpm.StatePath, good);
                break;
            case "wrong key":
                key = Path.Combine(vtpm.Directory, "other.key");
                Storage.SealingKey.Generate(key);
                break;
            case "not sealed":
                File.WriteAllBytes(vtpm.StatePath, RandomNumberGenerator.GetBytes(2000));
                break;
        }

        string work = RepositoryPaths.NewTempDirectory();
        string sock = Path.Combine(work, "s");
        ToolResult r = ExternalTool.Run("dotnet", [TlVtpmServer.HostDll, .. TlVtpmServer.Arguments(vtpm.StatePath, key, sock, true, Path.Combine(work, "log"))],
            timeout: TimeSpan.FromSeconds(30));
        Assert.True(r.ExitCode == 4, $"{damage}: {r}");
        Assert.Contains(expected, r.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(sock + ".ctrl"), "no socket may exist for a refused state");
        if (damage != "missing")
            Assert.False(File.Exists(vtpm.StatePath) && File.ReadAllBytes(vtpm.StatePath).Length == 0);
    }

    [Fact]
    public void ControlChannel_QemuSequence_ProbeBeforeInitThenRunsAndShutsDown()
    {
        ManufacturedVTpm vtpm = ManufacturedVTpm.Create("vm-ctrl");
        using var server = TlVtpmServer.Start(vtpm, notNeedInit: false);
        SwtpmControlClient control = server.Control();

        // QEMU's pre-INIT probe: TPM2_ReadClock must get a well-formed TPM2 fatal response (tag 0x8001, size 10, rc 0x101).
        using (var data = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            data.Connect(new UnixDomainSocketEndPoint(server.DataSocket));
            data.Send(Convert.FromHexString("80010000000a00000181"));
            var response = new byte[64];
            int n = data.Receive(response);
            Assert.Equal("80010000000A00000101", Convert.ToHexString(response, 0, n));
        }

        Assert.Equal(0xFFFFu, (uint)control.GetCapabilities() & 0xFFFFu);
        control.Stop();
        (uint size, uint min, uint max) = control.SetBufferSize(0); // libtpms TPM_BUFFER_MAX; min = MAX_CONTEXT_SIZE + 128 of this build
        Assert.Equal(4096u, size);
        Assert.Equal(4096u, max);
        Assert.InRange(min, 2048u, 3968u); // QEMU's CRB asks for 3968
        Assert.Equal(3968u, control.SetBufferSize(3968).BufferSize);
        control.Init();
        control.SetLocality(0);
        using (TpmClient client = server.Client())
        {
            client.Startup(TpmSu.Clear);
            Assert.Equal(32, client.GetRandom(32).Length);
            Assert.False(control.GetTpmEstablished());
            Assert.Throws<SwtpmControlException>(() => control.ResetTpmEstablished(0)); // only locality 3/4 may reset
            control.ResetTpmEstablished(3);
            Assert.Equal(1u, control.GetConfig() & 1u); // state at rest is keyed
            Assert.Contains("\"TPMSpecification\"", control.GetInfo(SwtpmInfoSelectors.TpmSpecification), StringComparison.Ordinal);
            (byte[] permanent, _) = control.GetStateBlob(SwtpmStateBlobType.Permanent);
            Assert.True(permanent.Length > 1000);
            (byte[] volatileState, _) = control.GetStateBlob(SwtpmStateBlobType.Volatile);
            Assert.True(volatileState.Length > 1000);
        }

        control.Shutdown();
        Assert.Equal(0, server.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.False(File.Exists(server.ControlSocket));
    }

    private static byte[] Pcr16(TpmClient client) =>
        client.ReadPcrs(new TpmlPcrSelection([new TpmsPcrSelection(TpmAlgId.Sha256, [16])]))[(TpmAlgId.Sha256, 16)];
}
