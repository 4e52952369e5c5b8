using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.SecureBoot.Rollover;

/// <summary>A binary of a VM's boot chain, as read from its disk's ESP.</summary>
/// <param name="Path">Its path on the ESP, e.g. <c>/EFI/BOOT/BOOTX64.EFI</c>.</param>
/// <param name="Image">The PE/COFF image.</param>
public sealed record BootBinary(string Path, ReadOnlyMemory<byte> Image);

/// <summary>
/// Will the VM still boot after its KEK/db/dbx change? Every EFI binary of its ESP is judged by the firmware's rules
/// against the store as it is and as it would be. The update is refused when a binary the firmware admits today would be
/// refused, or when the new dbx forbids a binary the old one did not: shim checks dbx too before it starts grub or a
/// kernel, so a revoked second stage stops the boot just as a refused shim does.
/// </summary>
public static class BootChainPreflight
{
    public static IReadOnlyList<PreflightVerdict> Judge(OvmfVariableStore before, OvmfVariableStore after, IReadOnlyList<BootBinary> bootChain)
    {
        ArgumentNullException.ThrowIfNull(bootChain);
        var old = ImageSecurityDatabases.FromVariableStore(before);
        var updated = ImageSecurityDatabases.FromVariableStore(after);
        return [.. bootChain.Select(b => new PreflightVerdict(b.Path, FirmwareImageVerifier.Verify(b.Image, old), FirmwareImageVerifier.Verify(b.Image, updated)))];
    }

    /// <summary>The first verdict that blocks the update, or null when the boot chain survives it.</summary>
    public static PreflightVerdict? Blocking(IReadOnlyList<PreflightVerdict> verdicts) =>
        verdicts.FirstOrDefault(v => v.Regresses || v.NewlyForbidden);
}
