using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.Benchmarks.Vmgs;

/// <summary>
/// VMGS on a real file (fsync included): replacing a 64 KiB vTPM state, and open + read of it.
/// Run: dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- --filter '*VmgsBenchmarks*' --job short
/// </summary>
[MemoryDiagnoser]
public class VmgsBenchmarks
{
    private readonly byte[] _state = RandomNumberGenerator.GetBytes(65_536);
    private string _directory = "";
    private string _path = "";
    private VmgsKeyEncryptionKey _kek = null!;
    private VmgsFile _writer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"tl-vmgs-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
        _path = Path.Combine(_directory, "vm.vmgs");
        _kek = VmgsKeyEncryptionKey.FromBytes(RandomNumberGenerator.GetBytes(32));
        _writer = VmgsFile.Create(_path, _kek);
        _writer.WriteEntry(VmgsEntryId.UefiNvram, RandomNumberGenerator.GetBytes(540_672));
        _writer.WriteEntry(VmgsEntryId.VTpmState, _state);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _writer.Dispose();
        _kek.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Encrypt, write to free space, fsync, write the other header copy, fsync.</summary>
    [Benchmark]
    public void WriteVTpmState64K() => _writer.WriteEntry(VmgsEntryId.VTpmState, _state);

    /// <summary>Open read-only (both headers, checksum, key unwrap, MAC) and decrypt the vTPM entry.</summary>
    [Benchmark]
    public int OpenAndReadVTpmState()
    {
        using VmgsFile reader = VmgsFile.Open(_path, _kek, writable: false);
        return reader.ReadEntry(VmgsEntryId.VTpmState)!.Length;
    }
}
