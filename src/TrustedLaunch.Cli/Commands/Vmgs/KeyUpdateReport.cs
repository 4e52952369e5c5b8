using System.Text;
using TrustedLaunch.SecureBoot.Rollover;

namespace TrustedLaunch.Cli.Commands.Vmgs;

/// <summary>One pre-flight line: a boot-chain binary and the firmware's verdict now and after the update.</summary>
internal sealed record PreflightLine(string Path, string Before, string After, string Reason);

/// <summary>
/// The sanctioned key change to arm on the VM's baseline before its next boot (<c>POST /v1/vms/{vmId}/baseline:key-change</c>):
/// the operation's id and the KEK, db and dbx that boot will prove in PCR 7.
/// </summary>
internal sealed record KeyChangeSanction(string OperationId, IReadOnlyList<string> Kek, IReadOnlyList<string> Db, int DbxCount, string DbxDigest);

/// <summary>What <c>tl vmgs update-keys</c> reports: the record of what changed (or why nothing did).</summary>
internal sealed record KeyUpdateReport(
    string File, string Status, string Message, bool Written, string? DbxUpdateSigner, IReadOnlyList<KeyChange> Changes, IReadOnlyList<PreflightLine> Preflight,
    KeyChangeSanction? Sanction)
{
    public static KeyUpdateReport From(string file, KeyUpdateOutcome outcome, bool written, string operationId) => new(
        Path.GetFullPath(file), outcome.Status.ToString(), outcome.Message, written, outcome.DbxUpdateSigner, outcome.Changes,
        [.. outcome.Preflight.Select(p => new PreflightLine(p.Path, Word(p.Before.Allowed), Word(p.After.Allowed), p.After.Message))],
        outcome.ExpectedKeys is { } k ? new KeyChangeSanction(operationId, k.Kek, k.Db, k.DbxCount, k.DbxDigest) : null);

    public string ToText()
    {
        var text = new StringBuilder();
        text.Append(Status.ToUpperInvariant()).Append(": ").AppendLine(Message);
        if (DbxUpdateSigner is not null)
            text.Append("  dbx update signed by ").AppendLine(DbxUpdateSigner);
        foreach (var group in Changes.GroupBy(c => (c.Database, c.Action)))
        {
            var entries = group.ToList();
            text.Append("  ").Append(group.Key.Database).Append(' ').Append(group.Key.Action).Append(": ");
            text.AppendLine(entries.Count <= 4 ? string.Join("; ", entries.Select(c => c.Entry)) : $"{entries.Count} entries");
        }

        foreach (var line in Preflight)
            text.Append("  boot chain ").Append(line.Path).Append(": ").Append(line.Before).Append(" -> ").Append(line.After).Append(" (").Append(line.Reason).AppendLine(")");
        if (Sanction is not null)
            text.Append("  operation ").Append(Sanction.OperationId).AppendLine(": arm it on the VM's baseline before its next boot (--json carries the sanction: POST /v1/vms/{vmId}/baseline:key-change)");
        text.AppendLine(Written ? $"  wrote the uefi-nvram entry of {File}" : "  nothing written");
        return text.ToString();
    }

    private static string Word(bool allowed) => allowed ? "allowed" : "denied";
}
