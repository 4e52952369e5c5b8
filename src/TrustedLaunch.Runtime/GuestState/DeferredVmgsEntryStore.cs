using TrustedLaunch.Storage;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;

namespace TrustedLaunch.Runtime.GuestState;

/// <summary>
/// One VMGS entry that opens the file only for each read or write, so that tl-vtpm can hold the VMGS writer lock in
/// between. A write waits briefly for the lock: tl-vtpm has exited when the runtime persists, but the kernel may still be
/// closing its file; longer than <see cref="LockWait"/> means another writer really holds it, and the write fails
/// rather than racing it.
/// </summary>
internal sealed class DeferredVmgsEntryStore(string path, string kekPath, VmgsEntryId entry) : INonVolatileStore
{
    public static readonly TimeSpan LockWait = TimeSpan.FromSeconds(10);

    public void Persist(ReadOnlySpan<byte> data)
    {
        byte[] blob = data.ToArray(); // the file is opened in a callback, which cannot capture a span
        DateTime deadline = DateTime.UtcNow + LockWait;
        while (true)
        {
            try
            {
                VmgsGuestState.WithFile(path, kekPath, writable: true, file =>
                {
                    file.WriteEntry(entry, blob); // the atomic entry replace (docs/vmgs.md §5)
                    return true;
                });
                return;
            }
            catch (VmgsGuestStateException e) when (e.Problem == VmgsGuestStateProblem.InUse && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
            catch (VmgsGuestStateException e)
            {
                throw new NonVolatileStoreException($"Could not write VMGS entry {VmgsEntryNames.ToName(entry)} back: {e.Message}", e);
            }
            catch (IOException e)
            {
                throw new NonVolatileStoreException($"Could not write VMGS entry {VmgsEntryNames.ToName(entry)} back to {path}: {e.Message}", e);
            }
        }
    }

    public byte[]? Restore()
    {
        try
        {
            return VmgsGuestState.Read(path, kekPath, file => file.ReadEntry(entry));
        }
        catch (VmgsGuestStateException e)
        {
            throw new NonVolatileStoreException($"VMGS entry {VmgsEntryNames.ToName(entry)} cannot be read: {e.Message}", e);
        }
    }
}
