using TrustedLaunch.Storage;
using TrustedLaunch.VTpm.State;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.VTpm.Host;

/// <summary>
/// Picks where the vTPM state lives — a sealed state file, or the <c>vtpm</c> entry of a VM's VMGS — and hands the
/// device a <see cref="VTpmStateStore"/> either way, so TrustedLaunch.VTpm never learns that VMGS exists. A VMGS is
/// held open for writing (its single-writer lock) for as long as this source lives: every NV change the TPM makes
/// is an atomic entry replace while the VM runs.
/// </summary>
internal sealed class VTpmStateSource : IDisposable
{
    private readonly VmgsFile? _vmgs;

    private VTpmStateSource(VTpmStateStore store, VmgsFile? vmgs)
    {
        Store = store;
        _vmgs = vmgs;
    }

    public VTpmStateStore Store { get; }

    /// <exception cref="VTpmStateException">The state cannot be used; the message says why (never a new TPM).</exception>
    /// <exception cref="SealingKeyException">The key file is missing, too open, or not a 256-bit key.</exception>
    public static VTpmStateSource Open(HostCommandLine options)
    {
        if (options.VmgsPath is null)
            return new VTpmStateSource(VTpmStateFile.Open(options.StatePath!, options.Key ?? SealingKey.Load(options.KeyPath!)), null);

        string path = options.VmgsPath;
        if (!File.Exists(path))
            throw new VTpmStateException(VTpmStateFailure.Missing, $"VMGS {path} does not exist; create it with 'tl vmgs create' (a vTPM never manufactures itself)");
        using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(options.KekPath!);
        VmgsFile file;
        try
        {
            file = VmgsFile.Open(path, kek, writable: true);
        }
        catch (VmgsIntegrityException e)
        {
            throw new VTpmStateException(VTpmStateFailure.WrongKey, $"VMGS {path} does not open with {options.KekPath} (wrong key, or the file was tampered with): {e.Message}", e);
        }
        catch (VmgsFormatException e)
        {
            throw new VTpmStateException(VTpmStateFailure.Malformed, $"VMGS {path} is malformed: {e.Message}", e);
        }
        catch (VmgsFileInUseException e)
        {
            throw new VTpmStateException(VTpmStateFailure.Unavailable, $"VMGS {path} is in use by another writer: {e.Message}", e);
        }

        try
        {
            var store = new VTpmStateStore(new VmgsNonVolatileStore(file, VmgsEntryId.VTpmState), $"in VMGS {path} (entry vtpm)");
            return new VTpmStateSource(store, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose() => _vmgs?.Dispose();
}
