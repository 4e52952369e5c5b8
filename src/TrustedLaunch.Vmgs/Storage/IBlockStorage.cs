namespace TrustedLaunch.Vmgs.Storage;

/// <summary>
/// Random-access bytes under a VMGS file: a host file (<see cref="FileBlockStorage"/>), memory, or a test
/// wrapper that simulates a crash. <see cref="Flush"/> is the durability barrier the crash-consistency
/// argument rests on: everything written before it survives a power cut, nothing after it is promised.
/// </summary>
public interface IBlockStorage : IDisposable
{
    /// <summary>Current length in bytes.</summary>
    long Length { get; }

    /// <summary>Whether <see cref="Write"/>, <see cref="Flush"/> and <see cref="SetLength"/> are allowed.</summary>
    bool CanWrite { get; }

    /// <summary>Reads up to <paramref name="destination"/>.Length bytes at <paramref name="offset"/>; returns how many (short at the end).</summary>
    int Read(long offset, Span<byte> destination);

    /// <summary>Writes at <paramref name="offset"/>, extending the storage if needed.</summary>
    void Write(long offset, ReadOnlySpan<byte> source);

    /// <summary>Makes every completed write durable (fsync).</summary>
    void Flush();

    /// <summary>Truncates or extends.</summary>
    void SetLength(long length);
}
