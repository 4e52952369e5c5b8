using TrustedLaunch.Storage;

namespace TrustedLaunch.VTpm.State;

/// <summary>
/// The standalone form of a vTPM's state: one file, AES-256-GCM sealed with a key file, rewritten in place in one of
/// two slots with one data flush per write (<see cref="SlottedFileNonVolatileStore"/>): an NV write costs one flush.
/// (A VM's VMGS entry is the other form; the composition root picks one.)
/// </summary>
public static class VTpmStateFile
{
    /// <summary>Bound into the sealing so a blob sealed for something else is never taken for vTPM state.</summary>
    public const string SealingPurpose = "tl-vtpm-state-v1";

    public static VTpmStateStore Open(string statePath, SealingKey key) =>
        new(new SealedNonVolatileStore(new SlottedFileNonVolatileStore(statePath), key, SealingPurpose), statePath);

    /// <summary>A read-only view: the state is loaded from <paramref name="statePath"/>, changes stay in memory.</summary>
    public static (VTpmStateStore Store, VTpmStateImage Image) OpenReadOnly(string statePath, SealingKey key, uint libtpmsVersion)
    {
        VTpmStateImage image = Open(statePath, key).Load(libtpmsVersion);
        var memory = new VTpmStateStore(new EphemeralNonVolatileStore(image.Serialize()), statePath + " (read-only)");
        return (memory, image);
    }
}
