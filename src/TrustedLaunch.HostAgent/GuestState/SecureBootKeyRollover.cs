using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.Images;
using TrustedLaunch.SecureBoot.Rollover;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent.GuestState;

/// <summary>
/// The host's half of <c>POST …/x-tl-updateSecureBootKeys</c>: the same rewrite as <c>tl vmgs update-keys</c> on a VM that
/// is not running — <see cref="SecureBootKeyUpdater"/> on the VMGS's variable store, judged first against every EFI binary
/// on the ESP of the VM's OS disk, then one atomic write of the <c>uefi-nvram</c> entry (every other variable kept). The
/// report names what changed and the KEK/db/dbx before and after, in the verifier's terms (the sanction of the next boot).
/// </summary>
internal static class SecureBootKeyRollover
{
    public static SecureBootKeyUpdateReport Apply(string vmgsPath, string diskPath, string hostKeyPath, SecureBootKeyUpdateAssignment update)
    {
        ArgumentNullException.ThrowIfNull(update);
        SecureBootTemplate? template = null;
        if (update.Template is string name)
        {
            if (!SecureBootTemplates.TryParse(name, out SecureBootTemplate parsed))
                return Report(update, "NotApplicable", $"'{name}' is not a Secure Boot template.");
            template = parsed;
        }

        // Typed on both arms: a null byte[] would convert to an empty (not a null) ReadOnlyMemory, read as an empty dbx update.
        ReadOnlyMemory<byte>? dbx = update.DbxUpdate is null ? (ReadOnlyMemory<byte>?)null : Convert.FromBase64String(update.DbxUpdate);
        var request = new KeyUpdateRequest { Template = template, DbxUpdate = dbx, DbxUpdateName = update.DbxUpdateName };
        IReadOnlyList<BootBinary> bootChain = [.. EspBootBinaries.Read(diskPath).Select(b => new BootBinary(b.Path, b.Content))];

        using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(hostKeyPath);
        using VmgsFile vmgs = VmgsFile.Open(vmgsPath, kek, writable: true);
        byte[] nvram = vmgs.ReadEntry(VmgsEntryId.UefiNvram) ?? throw new InvalidDataException($"{vmgsPath} has no uefi-nvram entry.");
        OvmfVariableStore store = OvmfVariableStore.Load(nvram);
        KeyUpdateOutcome outcome = SecureBootKeyUpdater.Apply(store, request, bootChain);
        SecureBootKeyDigests before = Digests(ExpectedAttestedKeys.From(store));
        SecureBootKeyDigests? after = outcome.Status switch
        {
            KeyUpdateStatus.Applied => Digests(outcome.ExpectedKeys ?? ExpectedAttestedKeys.From(OvmfVariableStore.Load(outcome.UpdatedStore!))),
            KeyUpdateStatus.Unchanged => before,
            _ => null,
        };
        if (outcome.Status == KeyUpdateStatus.Applied)
            vmgs.WriteEntry(VmgsEntryId.UefiNvram, outcome.UpdatedStore); // one atomic entry write: the old store survives any crash until this commits
        return new SecureBootKeyUpdateReport
        {
            OperationId = update.OperationId,
            Outcome = outcome.Status.ToString(),
            Message = outcome.Message,
            Changes = [.. outcome.Changes.Select(c => $"{c.Database} {c.Action} {c.Entry}")],
            DbxUpdateSigner = outcome.DbxUpdateSigner,
            Before = before,
            After = after,
        };
    }

    public static SecureBootKeyUpdateReport Report(SecureBootKeyUpdateAssignment update, string outcome, string message) =>
        new() { OperationId = update.OperationId, Outcome = outcome, Message = message };

    private static SecureBootKeyDigests Digests(ExpectedAttestedKeys keys) =>
        new() { Kek = keys.Kek, Db = keys.Db, DbxCount = keys.DbxCount, DbxDigest = keys.DbxDigest };
}
