using TrustedLaunch.Images.Disk;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Images.Tests.Disk;

public sealed class GuidPartitionTableTests
{
    [IntegrationTest]
    [Fact]
    public void Write_ThenRead_RoundTripsAndSfdiskAgrees()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "disk.raw");
        var partId = Guid.NewGuid();
        using (var disk = new FileStream(path, FileMode.Create))
        {
            disk.SetLength(8 * 1024 * 1024);
            GuidPartitionTable.Write(disk, 16384, Guid.NewGuid(), [new GptPartition(1, GptPartition.EfiSystemPartition, partId, 2048, 16000, 0, "ESP")]);
        }

        using (var disk = File.OpenRead(path))
        {
            var parts = GuidPartitionTable.Read(disk, out _);
            GptPartition p = Assert.Single(parts);
            Assert.Equal((partId, 2048L, 16000L, "ESP"), (p.Id, p.FirstLba, p.LastLba, p.Name));
        }

        ToolResult dump = ExternalTool.Run("sfdisk", ["--dump", path]);
        Assert.Contains($"start=        2048, size=       13953, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid={partId.ToString().ToUpperInvariant()}, name=\"ESP\"",
            dump.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_CorruptedHeader_ThrowsCrcError()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory(), "disk.raw");
        using (var disk = new FileStream(path, FileMode.Create))
        {
            disk.SetLength(4 * 1024 * 1024);
            GuidPartitionTable.Write(disk, 8192, Guid.NewGuid(), [new GptPartition(1, GptPartition.EfiSystemPartition, Guid.NewGuid(), 2048, 8000, 0, "ESP")]);
            disk.Position = 512 + 40;
            disk.WriteByte(0x77);
        }

        using var stream = File.OpenRead(path);
        var e = Assert.Throws<ImageException>(() => GuidPartitionTable.Read(stream, out _));
        Assert.Contains("CRC32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NotGpt_Throws()
    {
        using var stream = new MemoryStream(new byte[64 * 1024]);
        Assert.Throws<ImageException>(() => GuidPartitionTable.Read(stream, out _));
    }
}
