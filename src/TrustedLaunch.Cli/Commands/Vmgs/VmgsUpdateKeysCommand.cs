using System.CommandLine;
using TrustedLaunch.Images;
using TrustedLaunch.SecureBoot.Rollover;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.Cli.Commands.Vmgs;

/// <summary>
/// <c>tl vmgs update-keys FILE --key-file KEK --disk DISK [--template microsoft|microsoft-2023] [--dbx-update FILE]
/// [--dry-run] [--json]</c>: the Secure Boot certificate rollover of one stopped VM (docs/secureboot-rollover.md).
/// </summary>
internal static class VmgsUpdateKeysCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "The VM's VMGS file (updated in place, crash-safely; the VM must be stopped)." };
        var keyFile = CliOptions.KeyFile("Host key-encryption key of the VMGS.");
        var disk = new Option<string>("--disk")
        {
            Description = "The VM's OS disk (raw or qcow2 GPT disk, or a bare FAT ESP): every EFI binary of its ESP must still be admitted after the change.",
            Required = true,
        };
        var template = new Option<string?>("--template")
        {
            Description = "Bring KEK and db to microsoft (2011 and 2023 CAs) or microsoft-2023 (2023 only); the VM's own entries stay.",
        };
        template.AcceptOnlyFromAmong(SecureBootTemplates.Microsoft, SecureBootTemplates.Microsoft2023);
        var dbxUpdate = new Option<string?>("--dbx-update")
        {
            Description = "A signed dbx update (e.g. Microsoft's DBXUpdate.bin), appended through the firmware's authenticated path: refused unless the VM's KEK verifies it.",
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Decide and report, write nothing." };
        var json = CliOptions.Json("Print the outcome, every change and the pre-flight verdicts as JSON.");
        var command = new Command("update-keys",
            "Roll a stopped VM's Secure Boot keys: KEK/db to a Microsoft template, a signed dbx update, checked first against the VM's own boot chain. " +
            "Every other UEFI variable is kept. Exit 0 applied or nothing to do, 1 refused (KEK cannot verify the update, or the boot chain would break), 2 bad input, 3 the file is in use.")
        {
            file, keyFile, disk, template, dbxUpdate, dryRun, json,
        };
        command.SetAction(parse =>
        {
            string? templateName = parse.GetValue(template);
            string? dbxPath = parse.GetValue(dbxUpdate);
            if (templateName is null && dbxPath is null)
                throw new CliException(ExitCode.BadInput, "Nothing to do: give --template, --dbx-update or both.");
            if (dbxPath is not null && !File.Exists(dbxPath))
                throw new CliException(ExitCode.BadInput, $"dbx update {dbxPath} does not exist.");
            string diskPath = parse.GetValue(disk)!;
            if (!File.Exists(diskPath))
                throw new CliException(ExitCode.BadInput, $"Disk image {diskPath} does not exist.");
            SecureBootTemplate? target = null;
            if (templateName is not null && SecureBootTemplates.TryParse(templateName, out SecureBootTemplate parsed))
                target = parsed;
            var request = new KeyUpdateRequest
            {
                Template = target,
                DbxUpdate = dbxPath is null ? (ReadOnlyMemory<byte>?)null : File.ReadAllBytes(dbxPath),
                DbxUpdateName = dbxPath is null ? null : Path.GetFileName(dbxPath),
            };
            IReadOnlyList<BootBinary> bootChain = [.. EspBootBinaries.Read(diskPath).Select(b => new BootBinary(b.Path, b.Content))];

            bool dry = parse.GetValue(dryRun);
            string path = parse.GetValue(file)!;
            using VmgsKeyEncryptionKey kek = VmgsInputs.LoadKey(parse.GetValue(keyFile)!);
            using VmgsFile vmgs = VmgsFile.Open(path, kek, writable: !dry);
            byte[] nvram = vmgs.ReadEntry(VmgsEntryId.UefiNvram) ?? throw new CliException(ExitCode.BadInput, $"{path} has no uefi-nvram entry.");
            KeyUpdateOutcome outcome = SecureBootKeyUpdater.Apply(OvmfVariableStore.Load(nvram), request, bootChain);
            bool written = false;
            if (outcome.Status == KeyUpdateStatus.Applied && !dry)
            {
                vmgs.WriteEntry(VmgsEntryId.UefiNvram, outcome.UpdatedStore);
                written = true;
            }

            KeyUpdateReport report = KeyUpdateReport.From(path, outcome, written, Guid.NewGuid().ToString("D"));
            if (parse.GetValue(json))
                CliJson.Write(report, parse.Out());
            else
                parse.Out().Write(report.ToText());
            return outcome.Status switch
            {
                KeyUpdateStatus.Applied or KeyUpdateStatus.Unchanged => (int)ExitCode.Ok,
                KeyUpdateStatus.RefusedByKek or KeyUpdateStatus.RefusedByPreflight => (int)ExitCode.VerificationFailed,
                _ => (int)ExitCode.BadInput,
            };
        });
        return command;
    }
}
