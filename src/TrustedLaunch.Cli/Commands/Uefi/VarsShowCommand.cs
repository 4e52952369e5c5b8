using System.CommandLine;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Cli.Commands.Uefi;

/// <summary><c>tl uefi vars show FILE [--json] [--all] [--export-certs DIR]</c>.</summary>
internal static class VarsShowCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "OVMF variable store (OVMF_VARS*.fd, 4 MB or 2 MB layout)." };
        var json = CliOptions.Json("Print the report as JSON.");
        var all = new Option<bool>("--all") { Description = "Also list deleted and in-deleted-transition records, in flash order." };
        var export = new Option<string?>("--export-certs") { Description = "Write every X.509 certificate of PK/KEK/db/dbx/MokList to this folder as DER." };
        var command = new Command("show", "Show Secure Boot mode, PK/KEK/db/dbx entries and all variables of a store. Exit 2 if malformed.")
        {
            file, json, all, export,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            var store = Load(path);
            var report = VariableStoreReport.From(path, store, parse.GetValue(all));
            if (parse.GetValue(export) is { } dir)
                ExportCertificates(store, dir);
            if (parse.GetValue(json))
                CliJson.Write(report, UefiJsonContext.Shapes.VariableStoreReport, parse.Out());
            else
                parse.Out().Write(report.ToText());
            return (int)ExitCode.Ok;
        });
        return command;
    }

    /// <summary>Loads a store, mapping format errors to exit code 2 with the offset.</summary>
    public static OvmfVariableStore Load(string path)
    {
        try
        {
            return OvmfVariableStore.LoadFile(path);
        }
        catch (UefiFormatException e)
        {
            string at = e.Offset >= 0 ? $" (at byte 0x{e.Offset:X})" : "";
            throw new CliException(ExitCode.BadInput, $"{path} is not a valid OVMF variable store: {e.Message}{at}");
        }
    }

    private static void ExportCertificates(OvmfVariableStore store, string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var db in store.SecureBoot.All)
        {
            int index = 0;
            foreach (var der in db.Certificates)
                File.WriteAllBytes(Path.Combine(directory, $"{db.Key.Name}-{index++}.der"), der.ToArray());
        }
    }
}
