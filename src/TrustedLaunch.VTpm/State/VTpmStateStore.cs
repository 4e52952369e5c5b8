using TrustedLaunch.Storage;

namespace TrustedLaunch.VTpm.State;

/// <summary>
/// Reads and writes a <see cref="VTpmStateImage"/> through an <see cref="INonVolatileStore"/> (a sealed file
/// today, a VMGS entry later) and turns every storage failure into a <see cref="VTpmStateException"/> that
/// says which failure it is.
/// </summary>
public sealed class VTpmStateStore
{
    private readonly INonVolatileStore _store;

    public VTpmStateStore(INonVolatileStore store, string description)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        Description = description;
    }

    /// <summary>Where the state lives, for messages (a path, "memory", a VMGS entry).</summary>
    public string Description { get; }

    /// <summary>How many times <see cref="Persist"/> wrote the image (each one a durable write), and how long they took.</summary>
    public int PersistCount { get; private set; }

    /// <inheritdoc cref="PersistCount"/>
    public TimeSpan PersistTime { get; private set; }

    /// <summary>Reads the state; a missing state is an error here (only manufacturing starts from nothing).</summary>
    public VTpmStateImage Load(uint runningLibtpmsVersion)
    {
        byte[]? blob;
        try
        {
            blob = _store.Restore();
        }
        catch (SealedBlobException e)
        {
            VTpmStateFailure failure = e.Failure switch
            {
                SealedBlobFailure.Truncated => VTpmStateFailure.Truncated,
                SealedBlobFailure.WrongKey => VTpmStateFailure.WrongKey,
                SealedBlobFailure.Tampered => VTpmStateFailure.Tampered,
                _ => VTpmStateFailure.Malformed,
            };
            throw new VTpmStateException(failure, $"vTPM state {Description} cannot be opened: {e.Message}", e);
        }
        catch (NonVolatileStoreException e)
        {
            throw new VTpmStateException(VTpmStateFailure.Unavailable, $"vTPM state {Description} cannot be read: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new VTpmStateException(VTpmStateFailure.Unavailable, $"vTPM state {Description} cannot be read: {e.Message}", e);
        }

        if (blob is null)
        {
            throw new VTpmStateException(VTpmStateFailure.Missing,
                $"vTPM state {Description} does not exist; create it with 'tl vtpm manufacture' (a vTPM never manufactures itself)");
        }

        VTpmStateImage image;
        try
        {
            image = VTpmStateImage.Parse(blob);
        }
        catch (VTpmStateException e)
        {
            throw new VTpmStateException(VTpmStateFailure.Malformed, $"vTPM state {Description}: {e.Message}", e);
        }

        if (!image.HasPermanentState)
            throw new VTpmStateException(VTpmStateFailure.Malformed, $"vTPM state {Description} holds no permanent TPM state");
        if ((image.LibtpmsVersion >> 8) > (runningLibtpmsVersion >> 8))
        {
            throw new VTpmStateException(VTpmStateFailure.NewerLibtpms,
                $"vTPM state {Description} was written by libtpms {LibTpmsVersionText(image.LibtpmsVersion)}, newer than the loaded {LibTpmsVersionText(runningLibtpmsVersion)}; refusing to downgrade it");
        }

        return image;
    }

    /// <summary>Writes the whole image atomically.</summary>
    /// <exception cref="VTpmStateException">The store failed; the previous state is intact.</exception>
    public void Persist(VTpmStateImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            _store.Persist(image.Serialize());
        }
        catch (Exception e) when (e is NonVolatileStoreException or IOException or UnauthorizedAccessException)
        {
            throw new VTpmStateException(VTpmStateFailure.Unavailable, $"vTPM state {Description} cannot be written: {e.Message}", e);
        }

        PersistCount++;
        PersistTime += System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    public static string LibTpmsVersionText(uint version) => $"{version >> 16}.{(version >> 8) & 0xff}.{version & 0xff}";
}
