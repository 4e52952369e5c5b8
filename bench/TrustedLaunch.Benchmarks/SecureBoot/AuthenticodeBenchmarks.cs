using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using TrustedLaunch.Pe.Authenticode;
using TrustedLaunch.Pe.Authenticode.Pe;
using TrustedLaunch.SecureBoot;
using TrustedLaunch.Testing.Qemu;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Benchmarks.SecureBoot;

/// <summary>
/// The Authenticode digest of Debian's signed kernel (8 MB) against a raw SHA-256 of the same bytes (the floor), and the
/// whole in-process verdict against the Microsoft store (parse, hash, PKCS#7, chain to db, dbx checks).
/// </summary>
[MemoryDiagnoser]
public class AuthenticodeBenchmarks
{
    private byte[] _kernel = [];
    private PeImage? _image;
    private ImageSecurityDatabases? _databases;

    [GlobalSetup]
    public void Setup()
    {
        _kernel = File.ReadAllBytes(DebianBootChain.Kernel);
        _image = PeImage.Parse(_kernel);
        _databases = ImageSecurityDatabases.FromVariableStore(OvmfVariableStore.LoadFile("/usr/share/OVMF/OVMF_VARS_4M.ms.fd"));
    }

    [Benchmark(Baseline = true)]
    public byte[] RawSha256() => SHA256.HashData(_kernel);

    [Benchmark]
    public byte[] AuthenticodeSha256() => AuthenticodeDigest.Compute(_image!, HashAlgorithmName.SHA256);

    [Benchmark]
    public bool VerifyAgainstMicrosoftStore() => FirmwareImageVerifier.Verify(_kernel, _databases!).Allowed;
}
