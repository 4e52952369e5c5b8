using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Storage;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.VTpm.State;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;
using Xunit.Abstractions;

namespace TrustedLaunch.VTpm.Host.Tests;

/// <summary>A VMGS as <c>tl vmgs create</c> lays it out (vtpm + identity entries), made in this process.</summary>
public sealed record ManufacturedVmgs(string Directory, string VmgsPath, string KekPath, VTpmIdentity Identity)
{
    public static ManufacturedVmgs Create(string vmId)
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-vtpm-vmgs");
        string vmgs = Path.Combine(dir, "vm.vmgs");
        string kekPath = Path.Combine(dir, "host.kek");
        using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Generate(kekPath);
        var memory = new EphemeralNonVolatileStore();
        VTpmIdentity identity;
        lock (ManufacturedVTpm.ManufactureGate)
            identity = VTpmManufacturer.Manufacture(new VTpmStateStore(memory, "test VMGS vtpm entry"), ManufacturedVTpm.Ca, new VTpmManufactureOptions { VmId = TestVmIds.For(vmId) });
        byte[] state = memory.Restore()!;
        VmgsFile.CreateWith(vmgs, kek, file =>
        {
            file.WriteEntry(VmgsEntryId.VTpmState, state);
            file.WriteEntry(VmgsEntryId.VmIdentity, System.Text.Encoding.UTF8.GetBytes($$"""{"vmId":"{{vmId}}"}"""));
        });
        return new ManufacturedVmgs(dir, vmgs, kekPath, identity);
    }

    public VmgsFile Open(bool writable = false)
    {
        using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(KekPath);
        return VmgsFile.Open(VmgsPath, kek, writable);
    }
}

/// <summary><c>tl-vtpm --vmgs FILE --kek-file KEK</c>: the vTPM state in the VMGS vtpm entry.</summary>
[IntegrationTest]
public sealed class VmgsStateTests(ITestOutputHelper output)
{
    private const uint TestIndex = 0x01500030;

    [Fact]
    public void Vmgs_Tpm2Tools_EkCertificateChainsAndQuoteChecks()
    {
        ManufacturedVmgs vm = ManufacturedVmgs.Create("vm-vmgs-tools");
        using var server = TlVtpmServer.StartVmgs(vm.VmgsPath, vm.KekPath);
        string dir = Path.GetDirectoryName(server.DataSocket)!;
        FilePlatformCa ca = ManufacturedVTpm.Ca;
        string der = Path.Combine(dir, "ek.der");
        Tool(server, "tpm2_nvread", $"0x{VTpmLayout.EkRsa.CertificateIndex:X8}", "-C", "o", "-o", der);
        using var certificate = X509CertificateLoader.LoadCertificateFromFile(der);
        Assert.Contains($"CN={TestVmIds.For("vm-vmgs-tools"):D}", certificate.Subject, StringComparison.Ordinal);
        string pem = Path.Combine(dir, "ek.pem");
        File.WriteAllText(pem, certificate.ExportCertificatePem());
        ToolResult verify = ExternalTool.Run("openssl", ["verify", "-CAfile", PlatformCaLayout.CertificatePath(ca.Directory, PlatformCaLayout.RootName),
            "-untrusted", PlatformCaLayout.CertificatePath(ca.Directory, PlatformCaLayout.EndorsementKeyCaName), pem]);
        Assert.True(verify.ExitCode == 0, verify.ToString());

        string akPem = Path.Combine(dir, "ak.pem");
        Tool(server, "tpm2_readpublic", "-c", "0x81000003", "-f", "pem", "-o", akPem);
        string nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        Tool(server, "tpm2_quote", "-c", "0x81000003", "-l", "sha256:0,7", "-q", nonce, "-m", Path.Combine(dir, "q.msg"),
            "-s", Path.Combine(dir, "q.sig"), "-o", Path.Combine(dir, "q.pcrs"), "-g", "sha256");
        Tool(server, "tpm2_checkquote", "-u", akPem, "-m", Path.Combine(dir, "q.msg"), "-s", Path.Combine(dir, "q.sig"),
            "-f", Path.Combine(dir, "q.pcrs"), "-g", "sha256", "-q", nonce);
    }

    [Fact]
    public void Vmgs_RestartAfterNvWrite_KeepsIdentityAndNvInTheVmgsEntry()
    {
        ManufacturedVmgs vm = ManufacturedVmgs.Create("vm-vmgs-restart");
        byte[] before;
        using (VmgsFile file = vm.Open())
            before = file.ReadEntry(VmgsEntryId.VTpmState)!;
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        using (var server = TlVtpmServer.StartVmgs(vm.VmgsPath, vm.KekPath))
        {
            using TpmClient client = server.Client();
            client.NvDefineSpace(new TpmsNvPublic(TestIndex, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead, [], 32));
            client.NvWrite(TestIndex, secret, authHandle: TpmHandles.Owner);
            Assert.Equal(0, server.Terminate());
        }

        using (VmgsFile file = vm.Open())
            Assert.NotEqual(before, file.ReadEntry(VmgsEntryId.VTpmState)); // the NV write went into the VMGS entry
        using (var server = TlVtpmServer.StartVmgs(vm.VmgsPath, vm.KekPath))
        using (TpmClient client = server.Client())
        {
            Assert.Equal(vm.Identity.Key("ek-rsa2048").Name, Convert.ToHexStringLower(client.ReadPublic(VTpmLayout.EkRsa.PersistentHandle).Name));
            Assert.Equal(secret, client.NvRead(TestIndex, 32, authHandle: TpmHandles.Owner));
        }
    }

    [Theory]
    [InlineData("missing", "does not exist")]
    [InlineData("wrong-key", "wrong key, or the file was tampered with")]
    [InlineData("entry-tampered", "failed AES-GCM authentication")]
    [InlineData("truncated", "malformed")]
    [InlineData("in-use", "in use by another writer")]
    [InlineData("no-vtpm-entry", "manufacture")]
    public void Vmgs_BadFile_RefusesWithReasonAndExit4(string damage, string expected)
    {
        ManufacturedVmgs vm = ManufacturedVmgs.Create("vm-vmgs-damage");
        string kek = vm.KekPath;
        VmgsFile? holder = null;
        switch (damage)
        {
            case "missing":
                File.Delete(vm.VmgsPath);
                break;
            case "wrong-key":
                kek = Path.Combine(vm.Directory, "other.kek");
                VmgsKeyEncryptionKey.Generate(kek).Dispose();
                break;
            case "entry-tampered":
            {
                long offset;
                using (VmgsFile file = vm.Open())
                    offset = file.Header.Find(VmgsEntryId.VTpmState)!.Value.Offset + 100;
                using var stream = new FileStream(vm.VmgsPath, FileMode.Open, FileAccess.ReadWrite);
                stream.Position = offset;
                int b = stream.ReadByte();
                stream.Position = offset;
                stream.WriteByte((byte)(b ^ 1));
                break;
            }

            case "truncated":
                using (var stream = new FileStream(vm.VmgsPath, FileMode.Open))
                    stream.SetLength(64);
                break;
            case "in-use":
                holder = vm.Open(writable: true);
                break;
            case "no-vtpm-entry":
                using (VmgsFile file = vm.Open(writable: true))
                    file.DeleteEntry(VmgsEntryId.VTpmState);
                break;
        }

        byte[]? original = File.Exists(vm.VmgsPath) ? File.ReadAllBytes(vm.VmgsPath) : null;
        try
        {
            string work = RepositoryPaths.NewTempDirectory();
            string sock = Path.Combine(work, "s");
            ToolResult r = ExternalTool.Run("dotnet", [TlVtpmServer.HostDll, .. TlVtpmServer.VmgsArguments(vm.VmgsPath, kek, sock, true, Path.Combine(work, "log"))],
                timeout: TimeSpan.FromSeconds(30));
            Assert.True(r.ExitCode == 4, $"{damage}: {r}");
            Assert.Contains(expected, r.StandardError, StringComparison.Ordinal);
            Assert.Contains(vm.VmgsPath, r.StandardError, StringComparison.Ordinal);
            Assert.False(File.Exists(sock + ".ctrl"), "no socket may exist for a refused VMGS");
            if (original is not null)
                Assert.Equal(original, File.ReadAllBytes(vm.VmgsPath)); // a refusal never writes (never a new TPM)
        }
        finally
        {
            holder?.Dispose();
        }
    }

    [Fact]
    public async Task Vmgs_SigkillDuringNvWrites_60Times_VmgsAlwaysOpensEkStableNvOldOrNew()
    {
        ManufacturedVmgs vm = ManufacturedVmgs.Create("vm-vmgs-kill");
        string ekName = vm.Identity.Key("ek-rsa2048").Name!;
        var random = new Random(5);
        long acknowledged = -1;
        int acks = 0;
        var clock = Stopwatch.StartNew();
        for (int kill = 0; kill < 60; kill++)
        {
            using (VmgsFile file = vm.Open())
                Assert.NotNull(file.ReadEntry(VmgsEntryId.VTpmState)); // the VMGS opens and the entry decrypts after every kill
            using var server = TlVtpmServer.StartVmgs(vm.VmgsPath, vm.KekPath);
            using TpmClient client = server.Client();
            Assert.Equal(ekName, Convert.ToHexStringLower(client.ReadPublic(VTpmLayout.EkRsa.PersistentHandle).Name));
            if (kill == 0)
            {
                client.NvDefineSpace(new TpmsNvPublic(TestIndex, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead, [], 16));
            }
            else if ((client.NvReadPublic(TestIndex).Public.Attributes & TpmaNv.Written) != 0)
            {
                byte[] value = client.NvRead(TestIndex, 16, authHandle: TpmHandles.Owner);
                long found = BinaryPrimitives.ReadInt64BigEndian(value);
                Assert.Equal(found, BinaryPrimitives.ReadInt64BigEndian(value.AsSpan(8))); // never a torn value
                Assert.True(found == acknowledged || found == acknowledged + 1, $"kill {kill}: NV #{found}, acknowledged #{acknowledged}");
                acknowledged = found;
            }

            var workload = Task.Run(() =>
            {
                try
                {
                    for (long n = acknowledged + 1; ; n++)
                    {
                        var value = new byte[16];
                        BinaryPrimitives.WriteInt64BigEndian(value, n);
                        BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(8), n);
                        client.NvWrite(TestIndex, value, authHandle: TpmHandles.Owner);
                        Interlocked.Exchange(ref acknowledged, n);
                        Interlocked.Increment(ref acks);
                    }
                }
                catch (Exception e) when (e is TpmTransportException or System.Net.Sockets.SocketException or IOException or TpmFormatException)
                {
                    // killed under us: expected
                }
            });
            int before = Volatile.Read(ref acks);
            var started = Stopwatch.StartNew();
            while (Volatile.Read(ref acks) == before && !workload.IsCompleted && started.ElapsedMilliseconds < 3000)
                await Task.Delay(1); // at least one write lands before the random kill moment, however loaded the machine
            await Task.Delay(random.Next(2, 80));
            server.Kill();
            await workload.WaitAsync(TimeSpan.FromSeconds(10));
        }

        output.WriteLine($"60 kills, {acks} acknowledged NV writes into the VMGS, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(acks > 60, "the workload must actually write between kills");
    }

    private static ToolResult Tool(TlVtpmServer server, string tool, params string[] args)
    {
        ToolResult r = ExternalTool.Run(tool, args, environment: server.ToolEnvironment, workingDirectory: Path.GetDirectoryName(server.DataSocket));
        Assert.True(r.ExitCode == 0, $"{tool} {string.Join(' ', args)}: {r}");
        return r;
    }
}
