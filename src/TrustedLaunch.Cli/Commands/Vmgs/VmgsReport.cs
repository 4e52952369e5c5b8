using System.Text;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;

namespace TrustedLaunch.Cli.Commands.Vmgs;

/// <summary>What <c>tl vmgs show</c> prints: header, entries, encryption, and with the key the decoded content.</summary>
internal sealed record VmgsReport
{
    public required string File { get; init; }
    public required long FileSize { get; init; }
    public required Guid FileId { get; init; }
    public required int FormatVersion { get; init; }
    public required ulong Sequence { get; init; }
    public required int ActiveSlot { get; init; }
    public required IReadOnlyList<VmgsSlotReport> Slots { get; init; }
    public required VmgsEncryptionReport Encryption { get; init; }
    public required IReadOnlyList<VmgsEntryReport> Entries { get; init; }
    public object? Identity { get; init; }
    public object? UefiVariables { get; init; }
    public object? VTpm { get; init; }
    public string? VTpmError { get; init; }

    public static VmgsReport From(string path, VmgsFile file, IReadOnlyList<VmgsSlotState> slots) => new()
    {
        File = Path.GetFullPath(path),
        FileSize = file.StorageLength,
        FileId = file.Header.FileId,
        FormatVersion = VmgsLayout.FormatVersion,
        Sequence = file.Header.Sequence,
        ActiveSlot = file.ActiveSlot,
        Slots = [.. slots.Select(s => new VmgsSlotReport(s.Slot, s.Header?.Sequence, s.Header is not null ? "valid" : s.Error!.Message))],
        Encryption = new VmgsEncryptionReport(
            "AES-256 key wrap with padding (RFC 5649)", "AES-256-GCM",
            Convert.ToHexStringLower(file.Header.KekThumbprint.Span), file.IsUnlocked),
        Entries = [.. file.Header.Entries.Select(e => new VmgsEntryReport(
            VmgsEntryNames.ToName(e.Id), (uint)e.Id, e.Length, e.AllocatedLength, e.Offset, e.Generation))],
    };

    public string ToText()
    {
        var text = new StringBuilder();
        text.AppendLine($"VMGS {File}");
        text.AppendLine($"  file id          {FileId}");
        text.AppendLine($"  size             {FileSize} bytes, format version {FormatVersion}");
        text.AppendLine($"  active header    slot {ActiveSlot}, sequence {Sequence}");
        foreach (VmgsSlotReport slot in Slots)
            text.AppendLine($"    slot {slot.Slot}         {(slot.Sequence is { } s ? $"sequence {s}" : slot.Status)}");
        text.AppendLine($"  data key wrap    {Encryption.KeyWrap}, KEK thumbprint {Encryption.KekThumbprint}");
        text.AppendLine($"  entries          {Encryption.EntryCipher}{(Encryption.Unlocked ? ", unlocked" : " (no key given: contents not shown)")}");
        foreach (VmgsEntryReport entry in Entries)
            text.AppendLine($"    {entry.Name,-12} {entry.Length,9} bytes (allocated {entry.Allocated}, at {entry.Offset}, generation {entry.Generation})");
        if (Identity is not null)
            text.AppendLine($"  identity         {System.Text.Json.JsonSerializer.Serialize(Identity, CliJson.Options).ReplaceLineEndings(" ")}");
        if (UefiVariables is VmgsUefiSummary uefi)
        {
            text.AppendLine($"  UEFI variables   {uefi.VariableCount} variables, {uefi.UsedBytes} bytes used, Secure Boot {(uefi.SecureBootEnforced ? "enforced" : "not enforced")} ({uefi.PlatformMode})");
            text.AppendLine($"    PK {uefi.PlatformKeys}, KEK {uefi.KeyExchangeKeys}, db {uefi.Db}, dbx {uefi.Dbx} entries");
        }

        if (VTpm is TrustedLaunch.VTpm.Identity.VTpmIdentity tpm)
        {
            text.AppendLine($"  vTPM             libtpms {tpm.LibtpmsVersion}, VM {tpm.VmId}, banks {string.Join(", ", tpm.PcrBanks)}");
            foreach (var key in tpm.Keys)
                text.AppendLine($"    {key.Role,-8} {key.PersistentHandle} {key.Algorithm ?? "absent"}: {key.CertificateSubject ?? "no certificate"}");
        }
        else if (VTpmError is not null)
        {
            text.AppendLine($"  vTPM             not decoded: {VTpmError}");
        }

        return text.ToString();
    }
}

internal sealed record VmgsSlotReport(int Slot, ulong? Sequence, string Status);

internal sealed record VmgsEncryptionReport(string KeyWrap, string EntryCipher, string KekThumbprint, bool Unlocked);

internal sealed record VmgsEntryReport(string Name, uint Id, int Length, int Allocated, long Offset, ulong Generation);

internal sealed record VmgsUefiSummary(
    int VariableCount, int UsedBytes, bool SecureBootEnforced, string PlatformMode, int PlatformKeys, int KeyExchangeKeys, int Db, int Dbx);
