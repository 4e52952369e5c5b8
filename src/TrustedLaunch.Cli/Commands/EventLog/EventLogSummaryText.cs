using TrustedLaunch.Tcg.EventLog;

namespace TrustedLaunch.Cli.Commands.EventLog;

/// <summary>Compact human rendering of a <see cref="BootStateSummary"/>, one fact per line.</summary>
internal static class EventLogSummaryText
{
    public static void Write(TextWriter o, string name, BootStateSummary s, PcrComparison comparison)
    {
        o.WriteLine($"{name}: boot state from replayed events only");
        o.WriteLine(s.PcrValuesVerified
            ? $"  PCR values      {(comparison.Passed ? "match the log" : "MISMATCH: " + string.Join(", ", comparison.Mismatches.Select(c => $"{c.BankName}[{c.Index}]")))}"
              + (comparison.ExitBootServicesEventsMissing ? " (ExitBootServices events missing from the log, recognised)" : "")
            : "  PCR values      not given: the log was checked against itself only (use --pcrs)");
        if (s.FirmwareVersion is not null)
            o.WriteLine($"  firmware        {s.FirmwareVersion}");
        var sb = s.SecureBoot;
        o.WriteLine($"  Secure Boot     {(sb.Enabled switch { true => "enabled", false => "disabled", _ => "unknown" })}"
            + (sb.DebugMode ? ", UEFI DEBUG MODE" : "") + (sb.DmaProtectionDisabled ? ", DMA protection disabled" : ""));
        Database(o, "PK", sb.Pk);
        Database(o, "KEK", sb.Kek);
        Database(o, "db", sb.Db);
        Database(o, "dbx", sb.Dbx);
        if (sb.Dbt is not null)
            Database(o, "dbt", sb.Dbt);
        if (s.Authorities.Count > 0)
        {
            o.WriteLine("  authorities");
            foreach (var a in s.Authorities)
                o.WriteLine($"    #{a.EventIndex,-4} {a.Describe()}");
        }

        if (s.BootApplications.Count > 0)
        {
            o.WriteLine("  boot applications (PCR4)");
            foreach (var app in s.BootApplications)
            {
                string authority = app.Authority is null ? "no authority logged" : (app.AuthorityInherited ? "same authority as before: " : "admitted by ") + app.Authority.Describe();
                o.WriteLine($"    #{app.EventIndex,-4} {EventLogInput.Bank(app.Bank)}:{app.AuthenticodeDigest}");
                o.WriteLine($"          {app.DevicePath ?? "(loaded from memory)"}{(app.BeforeBootOptionCall ? " [before boot option]" : "")}");
                o.WriteLine($"          {authority}");
            }
        }

        foreach (var d in s.BootServicesDrivers)
            o.WriteLine($"  driver (PCR2)   #{d.EventIndex} {d.AuthenticodeDigest[..16]}… {d.DevicePath}");
        if (s.Shim is { } shim)
            o.WriteLine($"  shim            SbatLevel {(shim.SbatLevel is null ? "-" : TcgEventDataPrintable(shim.SbatLevel))}; PCR14 {(shim.MeasuredVariables.Count == 0 ? "-" : string.Join(", ", shim.MeasuredVariables))}");
        if (s.GrubCommands.Count > 0)
        {
            o.WriteLine($"  grub commands   {s.GrubCommands.Count}");
            foreach (string c in s.GrubCommands)
                o.WriteLine($"    {TcgEventDataPrintable(c)}");
        }

        foreach (var f in s.GrubFiles)
            o.WriteLine($"  grub file       {f.Path} {f.Digest[..16]}…");
        foreach (string commandLine in s.KernelCommandLines.Distinct(StringComparer.Ordinal))
            o.WriteLine($"  kernel cmdline  {TcgEventDataPrintable(commandLine)}");
        if (s.Windows is { } w)
        {
            o.WriteLine($"  Windows         boot count {w.BootCount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}, code integrity {Flag(w.CodeIntegrity)}, DEP {Flag(w.DataExecutionPrevention)}, test signing {Flag(w.TestSigning)}, boot debugging {Flag(w.BootDebugging)}, kernel debugging {Flag(w.KernelDebugging)}");
            o.WriteLine($"                  VBS {(w.VbsConfigured ? "configured" : "not configured")}, HVCI {(w.HvciConfigured ? "configured" : "not configured")}, BitLocker unlocks {w.BitLockerUnlocks.Count}, ELAM {string.Join(", ", w.ElamDrivers.Select(e => e.KeyName))}, {w.LoadedModules.Count} loaded modules");
        }

        o.WriteLine($"  ExitBootServices {(s.ExitBootServicesMeasured ? "measured" : "not measured")}");
        foreach (string warning in s.Warnings)
            o.WriteLine($"  warning         {warning}");
        if (s.UninterpretedEvents.Count > 0)
            o.WriteLine($"  uninterpreted   {string.Join(", ", s.UninterpretedEvents.Select(e => $"#{e.EventIndex} PCR{e.PcrIndex} {e.TypeName}"))}");
        if (s.ExcludedEvents.Count > 0)
        {
            o.WriteLine($"  excluded        {s.ExcludedEvents.Count} events");
            foreach (var e in s.ExcludedEvents.Take(20))
                o.WriteLine($"    #{e.EventIndex,-4} PCR{e.PcrIndex} {e.TypeName}: {e.Reason}");
        }
    }

    private static void Database(TextWriter o, string name, SignatureDatabase? db)
    {
        if (db is null)
        {
            o.WriteLine($"  {name,-15} (not measured)");
            return;
        }

        var certs = db.Certificates.Select(c => c.Certificate?.CommonName ?? "(undecodable certificate)").ToList();
        int hashes = db.Hashes.Count();
        string text = db.Entries.Count == 0 ? "empty" : string.Join("; ", certs) + (hashes > 0 ? $"{(certs.Count > 0 ? "; " : "")}{hashes} hashes" : "");
        o.WriteLine($"  {name,-15} {text}");
    }

    private static string Flag(bool? value) => value switch { true => "on", false => "off", _ => "-" };

    private static string TcgEventDataPrintable(string text) => text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);
}
