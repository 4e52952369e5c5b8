using TrustedLaunch.Storage;
using TrustedLaunch.Vmgs.Format;

namespace TrustedLaunch.Vmgs;

/// <summary>
/// One VMGS entry as an <see cref="INonVolatileStore"/>: the vTPM and the UEFI store persist into it without
/// knowing VMGS exists (openvmm's vmgs_broker NonVolatileStore). Persist is the atomic entry replace;
/// restore maps "no entry" to null and VMGS failures to <see cref="NonVolatileStoreException"/>.
/// </summary>
public sealed class VmgsNonVolatileStore : INonVolatileStore
{
    private readonly VmgsFile _file;

    public VmgsNonVolatileStore(VmgsFile file, VmgsEntryId entry)
    {
        ArgumentNullException.ThrowIfNull(file);
        _file = file;
        Entry = entry;
    }

    /// <summary>The entry this store reads and writes.</summary>
    public VmgsEntryId Entry { get; }

    public ValueTask PersistAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            _file.WriteEntry(Entry, data.Span);
        }
        catch (IOException e)
        {
            throw new NonVolatileStoreException($"Could not persist VMGS entry {VmgsEntryNames.ToName(Entry)}: {e.Message}", e);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]?> RestoreAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return ValueTask.FromResult(_file.ReadEntry(Entry));
        }
        catch (VmgsException e)
        {
            throw new NonVolatileStoreException($"VMGS entry {VmgsEntryNames.ToName(Entry)} cannot be read: {e.Message}", e);
        }
    }
}
