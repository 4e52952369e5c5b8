namespace TrustedLaunch.Storage;

/// <summary>
/// One durable blob (a vTPM's state, a UEFI variable store). The writer of the blob never knows where it lives:
/// a plain file, an entry of a VM's guest-state (VMGS) file, or memory. Modelled on openvmm's NonVolatileStore.
/// Synchronous: every store is local file I/O (fsync included) or memory, and its callers (the vTPM's command loop,
/// the runtime's shutdown) need the write done before they go on.
/// </summary>
public interface INonVolatileStore
{
    /// <summary>Replaces the stored blob atomically: after a crash the store holds the old or the new blob, never a mix.</summary>
    void Persist(ReadOnlySpan<byte> data);

    /// <summary>The stored blob, or null when nothing was ever persisted (not an error).</summary>
    /// <exception cref="NonVolatileStoreException">The blob exists but cannot be read back intact.</exception>
    byte[]? Restore();
}

/// <summary>A stored blob exists but is unreadable: truncated, tampered with, or sealed with another key.</summary>
public class NonVolatileStoreException : Exception
{
    public NonVolatileStoreException() { }

    public NonVolatileStoreException(string message) : base(message) { }

    public NonVolatileStoreException(string message, Exception innerException) : base(message, innerException) { }
}
