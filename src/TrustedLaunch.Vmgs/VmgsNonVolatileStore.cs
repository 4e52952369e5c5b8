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

    public void Persist(ReadOnlySpan<byte> data)
    {
        try
        {
            _file.WriteEntry(Entry, data);
        }
        catch (IOException e)
        {
            throw new NonVolatileStoreException($"Could not persist VMGS entry {VmgsEntryNames.ToName(Entry)}: {e.Message}", e);
        }
    }

    public byte[]? Restore()
    {
        try
        {
            return _file.ReadEntry(Entry);
        }
        catch (VmgsException e)
        {
            throw new NonVolatileStoreException($"VMGS entry {VmgsEntryNames.ToName(Entry)} cannot be read: {e.Message}", e);
        }
    }
}
