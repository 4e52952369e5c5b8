using System.Globalization;
using System.Text;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Cli.Commands.Uefi;

/// <summary>The <c>--json</c> shape of <c>tl uefi vars show</c>.</summary>
internal sealed record VariableStoreReport
{
    public required string File { get; init; }
    public required int FileSize { get; init; }
    public required string Layout { get; init; }
    public required int StoreSize { get; init; }
    public required int UsedBytes { get; init; }
    public required int FreeBytes { get; init; }
    public required bool FreeSpaceErased { get; init; }
    public required string FaultTolerantWrite { get; init; }
    public string? FaultTolerantWriteDetail { get; init; }
    public required SecureBootReport SecureBoot { get; init; }
    public required IReadOnlyList<VariableReport> Variables { get; init; }

    public static VariableStoreReport From(string path, OvmfVariableStore store, bool includeDead)
    {
        var image = store.Image!;
        var sb = store.SecureBoot;
        var records = includeDead ? image.Records : image.LiveVariables;
        return new VariableStoreReport
        {
            File = path,
            FileSize = image.Flash.Length,
            Layout = store.Layout == NvFlashLayout.Ovmf4M ? "4m" : "2m",
            StoreSize = (int)image.StoreHeader.Size,
            UsedBytes = store.UsedBytes,
            FreeBytes = store.Capacity - store.UsedBytes,
            FreeSpaceErased = image.FreeSpaceErased,
            FaultTolerantWrite = image.FaultTolerantWrite?.State.ToString() ?? "absent",
            FaultTolerantWriteDetail = image.FaultTolerantWrite?.Detail,
            SecureBoot = new SecureBootReport
            {
                Enforced = sb.SecureBootEnforced,
                PlatformMode = sb.PlatformMode,
                SecureBootEnable = sb.SecureBootEnable,
                CustomMode = sb.CustomMode,
                VendorKeysNv = sb.VendorKeysNv,
                Databases = [.. sb.All.Select(DatabaseReport.From)],
            },
            Variables = [.. records.Select(VariableReport.From)],
        };
    }

    public string ToText()
    {
        var s = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        s.Append(inv, $"File:         {File} ({FileSize} bytes, OVMF {Layout} layout)\n");
        s.Append(inv, $"Store:        {Variables.Count(v => v.State is "added" or "inDeletedTransition")} live variables, {UsedBytes} of {UsedBytes + FreeBytes} bytes used; free space {(FreeSpaceErased ? "erased (0xFF)" : "NOT erased: the firmware will reclaim the store at boot")}\n");
        s.Append(inv, $"FTW:          {FaultTolerantWrite}{(FaultTolerantWriteDetail is null ? "" : $" ({FaultTolerantWriteDetail})")}\n");
        var sb = SecureBoot;
        string mode = sb.PlatformMode == PlatformMode.User ? "user mode (PK enrolled)" : "setup mode (no PK)";
        s.Append(inv, $"Secure Boot:  {(sb.Enforced ? "ENFORCING" : "OFF")} at next boot; {mode}, SecureBootEnable={Show(sb.SecureBootEnable)}, CustomMode={Show(sb.CustomMode)}, VendorKeysNv={Show(sb.VendorKeysNv)}\n");
        foreach (var db in sb.Databases)
        {
            s.Append(inv, $"\n{db.Name} ({db.Entries.Count} entr{(db.Entries.Count == 1 ? "y" : "ies")}, {db.HashCount} hash{(db.HashCount == 1 ? "" : "es")}, {db.DataSize} bytes, timestamp {db.TimeStamp ?? "none"})\n");
            if (db.Error is not null)
                s.Append(inv, $"  MALFORMED: {db.Error}\n");
            foreach (var e in db.Entries.Where(e => e.Kind == EfiSignatureKind.X509))
            {
                s.Append(inv, $"  X509  {e.Subject ?? e.Error}\n");
                s.Append(inv, $"        issuer {e.Issuer}; {e.PublicKey}; notAfter {e.NotAfter:yyyy-MM-dd}; owner {e.Owner}\n");
                s.Append(inv, $"        sha256 {e.Sha256Thumbprint}  sha1 {e.Sha1Thumbprint}\n");
            }

            foreach (var group in db.Entries.Where(e => e.Kind != EfiSignatureKind.X509).GroupBy(e => e.Kind))
            {
                var hashes = group.ToList();
                s.Append(inv, $"  {group.Key,-7}{hashes.Count} hash{(hashes.Count == 1 ? "" : "es")}");
                s.Append(hashes.Count <= 3 ? ": " + string.Join(", ", hashes.Select(h => h.Hash)) : $", first {hashes[0].Hash}").Append('\n');
            }
        }

        s.Append(inv, $"\nVariables ({Variables.Count}):\n");
        foreach (var v in Variables)
        {
            string state = v.State == "added" ? "" : $" [{v.State}]";
            s.Append(inv, $"  {v.Name,-24} {v.VendorGuid}  {v.AttributesText,-11} {v.DataSize,6} B{(v.TimeStamp is null ? "" : "  " + v.TimeStamp)}{state}\n");
        }

        return s.ToString();
    }

    private static string Show(byte? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "absent";
}

internal sealed record SecureBootReport
{
    public required bool Enforced { get; init; }
    public required PlatformMode PlatformMode { get; init; }
    public byte? SecureBootEnable { get; init; }
    public byte? CustomMode { get; init; }
    public byte? VendorKeysNv { get; init; }
    public required IReadOnlyList<DatabaseReport> Databases { get; init; }
}

internal sealed record DatabaseReport
{
    public required string Name { get; init; }
    public required Guid VendorGuid { get; init; }
    public required int DataSize { get; init; }
    public string? TimeStamp { get; init; }
    public required int HashCount { get; init; }
    public string? Error { get; init; }
    public required IReadOnlyList<SignatureEntrySummary> Entries { get; init; }

    public static DatabaseReport From(SignatureDatabase db) => new()
    {
        Name = db.Key.Name,
        VendorGuid = db.Key.VendorGuid,
        DataSize = db.DataSize,
        TimeStamp = db.TimeStamp.IsZero ? null : db.TimeStamp.ToString(),
        HashCount = db.HashCount,
        Error = db.Error,
        Entries = db.Entries,
    };
}

internal sealed record VariableReport
{
    public required string Name { get; init; }
    public required Guid VendorGuid { get; init; }
    public required uint Attributes { get; init; }
    public required string AttributesText { get; init; }
    public required int DataSize { get; init; }
    public string? TimeStamp { get; init; }
    public required string State { get; init; }
    public required int Offset { get; init; }

    public static VariableReport From(StoredVariable v) => new()
    {
        Name = v.Name,
        VendorGuid = v.VendorGuid,
        Attributes = (uint)v.Attributes,
        AttributesText = AttributeText(v.Attributes),
        DataSize = v.Data.Length,
        TimeStamp = v.TimeStamp.IsZero ? null : v.TimeStamp.ToString(),
        State = v.State switch
        {
            VariableState.Added => "added",
            VariableState.InDeletedTransition => "inDeletedTransition",
            VariableState.HeaderValidOnly => "headerValidOnly",
            _ => "deleted",
        },
        Offset = v.Offset,
    };

    private static string AttributeText(EfiVariableAttributes a)
    {
        var parts = new List<string>();
        if ((a & EfiVariableAttributes.NonVolatile) != 0) parts.Add("NV");
        if ((a & EfiVariableAttributes.BootServiceAccess) != 0) parts.Add("BS");
        if ((a & EfiVariableAttributes.RuntimeAccess) != 0) parts.Add("RT");
        if ((a & EfiVariableAttributes.HardwareErrorRecord) != 0) parts.Add("HR");
        if ((a & EfiVariableAttributes.AuthenticatedWriteAccess) != 0) parts.Add("AW");
        if ((a & EfiVariableAttributes.TimeBasedAuthenticatedWriteAccess) != 0) parts.Add("AT");
        uint rest = (uint)a & ~0x3Fu;
        if (rest != 0) parts.Add(string.Create(CultureInfo.InvariantCulture, $"0x{rest:X}"));
        return string.Join(',', parts);
    }
}
