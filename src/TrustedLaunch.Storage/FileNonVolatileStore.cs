using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Storage;

/// <summary>
/// One blob in one mode-0600 file, replaced through <see cref="DurableFile"/>: after a crash at any instant the path
/// holds the complete old or the complete new blob.
/// </summary>
public sealed class FileNonVolatileStore : INonVolatileStore
{
    private readonly Lock _gate = new();

    public FileNonVolatileStore(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FilePath = Path.GetFullPath(path);
    }

    /// <summary>The absolute path of the blob's file.</summary>
    public string FilePath { get; }

    public ValueTask PersistAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
            Persist(data.Span);
        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]?> RestoreAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            try
            {
                return ValueTask.FromResult<byte[]?>(File.ReadAllBytes(FilePath));
            }
            catch (FileNotFoundException)
            {
                return ValueTask.FromResult<byte[]?>(null);
            }
            catch (DirectoryNotFoundException)
            {
                return ValueTask.FromResult<byte[]?>(null);
            }
        }
    }

    private void Persist(ReadOnlySpan<byte> data)
    {
        try
        {
            DurableFile.Write(FilePath, data, overwrite: true, ownerOnly: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NonVolatileStoreException($"Could not persist {FilePath}: {e.Message}", e);
        }
    }
}
