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

    public void Persist(ReadOnlySpan<byte> data)
    {
        lock (_gate)
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

    public byte[]? Restore()
    {
        lock (_gate)
        {
            try
            {
                return File.ReadAllBytes(FilePath);
            }
            catch (FileNotFoundException)
            {
                return null;
            }
            catch (DirectoryNotFoundException)
            {
                return null;
            }
        }
    }
}
