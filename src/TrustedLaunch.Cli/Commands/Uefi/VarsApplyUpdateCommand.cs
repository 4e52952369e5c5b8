using System.CommandLine;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Cli.Commands.Uefi;

/// <summary><c>tl uefi vars apply-update FILE --var dbx --update AUTH [--append] [--out NEW | in place] [--dry-run]</c>.</summary>
internal static class VarsApplyUpdateCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "Variable store to update." };
        var variable = new Option<string>("--var") { Description = "Variable the update is for: PK, KEK, db, dbx or dbt.", Required = true };
        var update = new Option<string>("--update") { Description = "Signed update (.auth / .bin: EFI_VARIABLE_AUTHENTICATION_2 + value), e.g. from sign-update or Microsoft's dbx releases.", Required = true };
        var append = new Option<bool>("--append") { Description = "Apply with APPEND_WRITE (required for updates signed for appending, like Microsoft's dbx updates)." };
        var output = new Option<string?>("--out") { Description = "Write the updated store here instead of replacing FILE (atomically) in place." };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only decide whether the firmware would accept the update." };
        var json = CliOptions.Json("Print the decision as JSON.");
        var command = new Command("apply-update", "Apply a signed update offline, deciding as the firmware would. Exit 0 applied, 1 refused by firmware rules, 2 bad input.")
        {
            file, variable, update, append, output, force, dryRun, json,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            var target = WellKnownVariables.FromShortName(parse.GetValue(variable)!)
                ?? throw new CliException(ExitCode.BadInput, $"--var must be PK, KEK, db, dbx or dbt, not '{parse.GetValue(variable)}'.");
            string updatePath = parse.GetValue(update)!;
            if (!File.Exists(updatePath))
                throw new CliException(ExitCode.BadInput, $"Update file not found: {updatePath}");
            var store = VarsShowCommand.Load(path);
            if (store.HasPendingFaultTolerantWrite)
                throw new CliException(ExitCode.BadInput, $"{path} has a pending fault-tolerant write ({store.Image!.FaultTolerantWrite!.Detail}); boot the VM once so the firmware completes it, then retry.");
            var attributes = EfiVariableAttributes.SecureBootDatabase | (parse.GetValue(append) ? EfiVariableAttributes.AppendWrite : 0);
            VariableUpdateResult result = SecureBootVariableUpdater.Apply(store, target, attributes, File.ReadAllBytes(updatePath));

            bool applied = result.Status == VariableUpdateStatus.Applied;
            string? written = null;
            if (applied && !parse.GetValue(dryRun))
            {
                written = parse.GetValue(output) ?? path;
                store.SaveFile(written, overwrite: parse.GetValue(output) is null || parse.GetValue(force));
            }

            if (parse.GetValue(json))
            {
                CliJson.Write(new VarsUpdateDecision(result.Status, result.Message, result.Signer?.Subject, target.Name, written), UefiJsonContext.Shapes.VarsUpdateDecision, parse.Out());
            }
            else
            {
                parse.Out().WriteLine(applied
                    ? $"ACCEPTED: {target.Name} updated ({result.Message}){(written is null ? " [dry run, nothing written]" : $"; wrote {written}")}."
                    : $"REFUSED ({result.Status}): {result.Message}");
            }

            return applied ? (int)ExitCode.Ok : (int)ExitCode.VerificationFailed;
        });
        return command;
    }
}
