using System.Diagnostics;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using TrustedLaunch.Storage;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.VTpm.State;

namespace TrustedLaunch.Benchmarks.VTpm;

/// <summary>
/// The issue's client workload — 2,000 PCR_Extend, 200 Quote (RSA-2048 AK, 8 PCRs), 200 NV_Write (64 B) — over one
/// Unix data connection, against the NativeAOT tl-vtpm and against swtpm 0.7.1, same client code for both.
/// tl-vtpm's binary: $TL_VTPM_AOT (default /tmp/tl-vtpm-aot/tl-vtpm, made by bench/scripts/vtpm-compare.sh).
/// </summary>
[MemoryDiagnoser(false)]
public class VTpmWorkloadBenchmarks
{
    private const uint NvIndex = 0x01500100;
    private Process? _server;
    private TpmClient? _client;
    private uint _ak;
    private string _work = "";
    private int _generation;

    [Params("tl-vtpm", "swtpm")]
    public string Server { get; set; } = "tl-vtpm";

    [GlobalSetup]
    public void Setup()
    {
        _work = RepositoryPaths.NewTempDirectory("tl-vtpm-bench");
        string data = Path.Combine(_work, "tpm.sock");
        var psi = new ProcessStartInfo { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        string[] channels = ["--server", $"type=unixio,path={data}", "--ctrl", $"type=unixio,path={data}.ctrl", "--flags", "not-need-init,startup-clear"];
        if (Server == "tl-vtpm")
        {
            string state = Path.Combine(_work, "vtpm.state");
            string key = Path.Combine(_work, "vtpm.key");
            string ca = Path.Combine(_work, "pki");
            VTpmManufacturer.Manufacture(VTpmStateFile.Open(state, SealingKey.Generate(key)), FilePlatformCa.Create(ca, "Bench"),
                new VTpmManufactureOptions { VmId = Guid.Parse("5f0b1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b") });
            psi.FileName = Environment.GetEnvironmentVariable("TL_VTPM_AOT") ?? "/tmp/tl-vtpm-aot/tl-vtpm";
            foreach (string a in (string[])["socket", "--tpm2", "--state", state, "--key-file", key, .. channels])
                psi.ArgumentList.Add(a);
        }
        else
        {
            Directory.CreateDirectory(Path.Combine(_work, "state"));
            psi.FileName = ExternalTool.Require("swtpm");
            foreach (string a in (string[])["socket", "--tpm2", "--tpmstate", $"dir={Path.Combine(_work, "state")}", .. channels])
                psi.ArgumentList.Add(a);
        }

        _server = Process.Start(psi)!;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                probe.Connect(new UnixDomainSocketEndPoint(data));
                break;
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                Thread.Sleep(5);
            }
        }

        _client = new TpmClient(SwtpmSocketTransport.Unix(data, keepConnection: true));
        _ak = _client.CreatePrimary(TpmHandles.Endorsement, VTpmLayout.AkTemplate).Handle;
        _client.NvDefineSpace(new TpmsNvPublic(NvIndex, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead, [], 64));
    }

    [Benchmark(Description = "2000 PCR_Extend + 200 Quote + 200 NV_Write")]
    public void Workload()
    {
        Extends();
        Quotes();
        NvWrites();
    }

    [Benchmark(Description = "2000 PCR_Extend")]
    public void Extends()
    {
        TpmClient client = _client!;
        var digest = new[] { new TpmtHa(TpmAlgId.Sha256, new byte[32]) };
        for (int i = 0; i < 2000; i++)
            client.PcrExtend(16, digest);
    }

    [Benchmark(Description = "200 Quote")]
    public void Quotes()
    {
        var pcrs = new TpmlPcrSelection([new TpmsPcrSelection(TpmAlgId.Sha256, [0, 1, 2, 3, 4, 5, 6, 7])]);
        byte[] nonce = new byte[16];
        for (int i = 0; i < 200; i++)
            _client!.Quote(_ak, nonce, pcrs);
    }

    [Benchmark(Description = "200 NV_Write")]
    public void NvWrites()
    {
        byte[] value = new byte[64];
        for (int i = 0; i < 200; i++)
        {
            value[0] = (byte)(i ^ ++_generation); // changed data: every write is a real NV write (and a state store)
            _client!.NvWrite(NvIndex, value, authHandle: TpmHandles.Owner);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client?.Dispose();
        if (_server is { HasExited: false })
            _server.Kill();
        _server?.Dispose();
        Directory.Delete(_work, recursive: true);
    }
}
