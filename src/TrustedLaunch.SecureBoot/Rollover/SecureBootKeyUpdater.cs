using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.SecureBoot.Rollover;

/// <summary>
/// The rollover of one VM's variable store: KEK/db to a Microsoft template's CAs, then a signed dbx update through the
/// firmware's authenticated path (refused unless the KEK verifies it), then the pre-flight over the VM's boot chain.
/// Works on a copy: the caller's store is never modified, and nothing is returned to write unless every step passed.
/// Every variable other than KEK, db, dbx and (after a dbx update, as edk2 does) VendorKeysNv is kept byte for byte.
/// </summary>
public static class SecureBootKeyUpdater
{
    public static KeyUpdateOutcome Apply(OvmfVariableStore store, KeyUpdateRequest request, IReadOnlyList<BootBinary> bootChain)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(bootChain);
        if (store.HasPendingFaultTolerantWrite)
            return NotApplicable($"The store has a pending fault-tolerant write ({store.Image!.FaultTolerantWrite!.Detail}); boot the VM once so the firmware completes it.");
        if (store.SecureBoot.PlatformMode != PlatformMode.User)
            return NotApplicable("Secure Boot has no platform key in this store (setup mode): there are no keys to roll over.");
        if (request.Template is { } t && SecureBootTemplates.MicrosoftKeys(t).Count == 0)
            return NotApplicable($"'{SecureBootTemplates.NameOf(t)}' is not a Microsoft template: update-keys brings a store to microsoft or microsoft-2023.");

        OvmfVariableStore updated = OvmfVariableStore.Load(store.ToArray());
        var changes = new List<KeyChange>();
        if (request.Template is { } template)
            changes.AddRange(MicrosoftKeyRewrite.Apply(updated, template));

        string? signer = null;
        if (request.DbxUpdate is { } dbxUpdate)
        {
            string name = request.DbxUpdateName ?? "the dbx update";
            ReadOnlyMemory<byte> dbxBefore = updated.TryGet(WellKnownVariables.Dbx.VendorGuid, WellKnownVariables.Dbx.Name, out var dbx) ? dbx.Data : ReadOnlyMemory<byte>.Empty;
            // Microsoft's dbx updates are signed for APPEND_WRITE (SetVariable attributes 0x67).
            VariableUpdateResult result = SecureBootVariableUpdater.Apply(updated, WellKnownVariables.Dbx,
                EfiVariableAttributes.SecureBootDatabase | EfiVariableAttributes.AppendWrite, dbxUpdate);
            if (result.Status == VariableUpdateStatus.SecurityViolation)
                return Refused(KeyUpdateStatus.RefusedByKek, $"{name} is refused: the VM's KEK cannot verify it ({result.Message}).", changes);
            if (result.Status == VariableUpdateStatus.InvalidParameter)
                return Refused(KeyUpdateStatus.InvalidUpdate, $"{name} is not a valid dbx update: {result.Message}", changes);
            signer = result.Signer?.Subject;
            updated.TryGet(WellKnownVariables.Dbx.VendorGuid, WellKnownVariables.Dbx.Name, out var dbxAfter);
            changes.AddRange(MicrosoftKeyRewrite.DbxAdditions(dbxBefore, dbxAfter!.Data));
        }

        IReadOnlyList<PreflightVerdict> preflight = BootChainPreflight.Judge(store, updated, bootChain);
        if (BootChainPreflight.Blocking(preflight) is { } blocking)
        {
            return Refused(KeyUpdateStatus.RefusedByPreflight,
                $"{blocking.Path} would no longer boot: {blocking.After.Message} (today: {blocking.Before.Message})", changes) with { Preflight = preflight, DbxUpdateSigner = signer };
        }

        if (changes.Count == 0)
        {
            return new KeyUpdateOutcome
            {
                Status = KeyUpdateStatus.Unchanged, Message = "KEK, db and dbx already hold everything asked for; nothing written.", Preflight = preflight, DbxUpdateSigner = signer,
            };
        }

        return new KeyUpdateOutcome
        {
            Status = KeyUpdateStatus.Applied,
            Message = $"{changes.Count} entr{(changes.Count == 1 ? "y" : "ies")} changed ({Summary(changes)}); {preflight.Count} boot-chain binar{(preflight.Count == 1 ? "y" : "ies")} still admitted.",
            Changes = changes, Preflight = preflight, UpdatedStore = updated.ToArray(), DbxUpdateSigner = signer,
            ExpectedKeys = ExpectedAttestedKeys.From(updated),
        };
    }

    private static string Summary(List<KeyChange> changes) =>
        string.Join(", ", changes.GroupBy(c => (c.Database, c.Action)).Select(g => $"{g.Key.Database} {g.Count()} {g.Key.Action}"));

    private static KeyUpdateOutcome NotApplicable(string message) => new() { Status = KeyUpdateStatus.NotApplicable, Message = message };

    private static KeyUpdateOutcome Refused(KeyUpdateStatus status, string message, List<KeyChange> changes) =>
        new() { Status = status, Message = message, Changes = changes };
}
