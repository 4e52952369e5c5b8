using TrustedLaunch.Storage;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.VTpm.Engine;
using TrustedLaunch.VTpm.State;

namespace TrustedLaunch.VTpm.Identity;

/// <summary>The active PCR banks before and after <see cref="VTpmPcrBanks.Reconfigure"/>; <see cref="Changed"/> false when they were already so.</summary>
public sealed record PcrBankChange(IReadOnlyList<TpmAlgId> Before, IReadOnlyList<TpmAlgId> After, bool Changed);

/// <summary>
/// <c>swtpm_setup --reconfigure --pcr-banks</c> (libvirt's <c>&lt;active_pcr_banks&gt;</c> on an existing vTPM): the stopped vTPM's
/// active banks changed in place with TPM2_PCR_Allocate (platform authorization), which takes effect at the next _TPM_Init. Nothing
/// else of the TPM changes: EK, AK, their certificates, NV and persistent objects stay. Banks already as asked are not touched at
/// all (libvirt asks at every start of a domain that names them), so the state is written only when they change.
/// </summary>
public static class VTpmPcrBanks
{
    /// <exception cref="VTpmStateException">The state cannot be opened or written.</exception>
    /// <exception cref="ArgumentException">No bank, or one libtpms does not implement.</exception>
    /// <exception cref="InvalidOperationException">The TPM refused the allocation.</exception>
    public static PcrBankChange Reconfigure(VTpmStateStore store, IReadOnlyList<TpmAlgId> banks)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(banks);
        VTpmManufacturer.ValidateBanks(banks);
        VTpmStateImage image = store.Load(LibTpmsEngine.LibraryVersion);

        // Read the active banks on a copy in memory: a TPM2_Startup on the real state would advance its reset count for nothing.
        IReadOnlyList<TpmAlgId> before = Active(new VTpmStateStore(new EphemeralNonVolatileStore(image.Serialize()), store.Description + " (read-only)"), image);
        if (before.Order().SequenceEqual(banks.Distinct().Order()))
            return new PcrBankChange(before, before, Changed: false);

        using LibTpmsEngine engine = LibTpmsEngine.Open(store, image);
        engine.Initialize(deleteVolatile: true); // a reconfigured TPM starts afresh (Part 3 §22.5: the banks change at _TPM_Init)
        using var client = new TpmClient(engine, ownsTransport: false);
        client.Startup(TpmSu.Clear);
        if (!client.PcrAllocate(VTpmManufacturer.Allocation(banks)).Success)
            throw new InvalidOperationException($"TPM2_PCR_Allocate refused the banks {string.Join(',', banks)}.");
        client.Shutdown(TpmSu.Clear);
        engine.Terminate();
        engine.Initialize();
        client.Startup(TpmSu.Clear);
        IReadOnlyList<TpmAlgId> after = ActiveBanks(client);
        client.Shutdown(TpmSu.Clear);
        engine.Terminate();
        return new PcrBankChange(before, after, Changed: true);
    }

    private static IReadOnlyList<TpmAlgId> Active(VTpmStateStore store, VTpmStateImage image)
    {
        using LibTpmsEngine engine = LibTpmsEngine.Open(store, image);
        engine.Initialize(deleteVolatile: true);
        using var client = new TpmClient(engine, ownsTransport: false);
        client.Startup(TpmSu.Clear);
        IReadOnlyList<TpmAlgId> banks = ActiveBanks(client);
        engine.Terminate();
        return banks;
    }

    private static IReadOnlyList<TpmAlgId> ActiveBanks(TpmClient client) =>
        [.. client.GetPcrBanks().Selections.Where(s => s.Indices.Count > 0).Select(s => s.Hash)];
}
