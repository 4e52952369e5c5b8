using System.CommandLine;
using System.Globalization;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Cli.Commands.Uefi;

/// <summary><c>tl uefi vars sign-update --var db|dbx|KEK|PK --key KEY --cert CERT [--append] (--in ESL | --add …) --out FILE</c>.</summary>
internal static class VarsSignUpdateCommand
{
    public static Command Create()
    {
        var variable = new Option<string>("--var") { Description = "Variable to update: PK, KEK, db, dbx or dbt.", Required = true };
        var key = new Option<string>("--key") { Description = "Signer's RSA private key (PEM): the PK's for PK/KEK, a KEK's (or the PK's) for db/dbx.", Required = true };
        var cert = new Option<string>("--cert") { Description = "Signer's certificate (PEM or DER), embedded in the signature.", Required = true };
        var append = new Option<bool>("--append") { Description = "Sign for APPEND_WRITE (adds entries; the usual form of dbx updates; no timestamp ordering)." };
        var input = new Option<string?>("--in") { Description = "New value: a file of EFI_SIGNATURE_LISTs (.esl)." };
        var add = new Option<string[]>("--add") { Description = "New value built from certificate files and/or sha256:HEX entries.", AllowMultipleArgumentsPerToken = true };
        var delete = new Option<bool>("--delete") { Description = "Sign an empty value, which deletes the variable (deleting PK returns to setup mode)." };
        var owner = new Option<string?>("--owner") { Description = $"Owner GUID of --add entries (default {SecureBootStoreOptions.TrustedLaunchOwner})." };
        var time = new Option<string?>("--timestamp") { Description = "Time of the write, UTC (ISO 8601); default now. Replacing writes must be later than the stored one." };
        var output = new Option<string>("--out") { Description = "Output .auth file: EFI_VARIABLE_AUTHENTICATION_2 followed by the value, as SetVariable takes it.", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var json = CliOptions.Json("Print a summary as JSON.");
        var command = new Command("sign-update", "Create a signed EFI_VARIABLE_AUTHENTICATION_2 update for PK/KEK/db/dbx. Exit 2 on bad input.")
        {
            variable, key, cert, append, input, add, delete, owner, time, output, force, json,
        };
        command.SetAction(parse =>
        {
            var target = WellKnownVariables.FromShortName(parse.GetValue(variable)!)
                ?? throw new CliException(ExitCode.BadInput, $"--var must be PK, KEK, db, dbx or dbt, not '{parse.GetValue(variable)}'.");
            Guid ownerGuid = SecureBootStoreOptions.TrustedLaunchOwner;
            if (parse.GetValue(owner) is { } ownerText && !Guid.TryParse(ownerText, out ownerGuid))
                throw new CliException(ExitCode.BadInput, $"--owner '{ownerText}' is not a GUID.");
            byte[] payload = Payload(parse.GetValue(input), parse.GetValue(add) ?? [], parse.GetValue(delete), ownerGuid);
            if (SecureBootVariableUpdater.CheckSignatureListFormat(target, payload) is { } formatError)
                throw new CliException(ExitCode.BadInput, $"The new value would be refused by the firmware: {formatError}");
            var timeStamp = EfiTime.FromDateTimeOffset(ParseTime(parse.GetValue(time)));
            var attributes = EfiVariableAttributes.SecureBootDatabase | (parse.GetValue(append) ? EfiVariableAttributes.AppendWrite : 0);
            using var signer = KeyMaterialFiles.LoadSigner(parse.GetValue(cert)!, parse.GetValue(key)!);
            EfiVariableAuthentication2 auth = AuthenticatedVariableSigner.Sign(target, attributes, timeStamp, payload, signer);

            string outPath = parse.GetValue(output)!;
            byte[] encoded = auth.Encode();
            KeyMaterialFiles.WriteNew(outPath, encoded, parse.GetValue(force));
            var summary = new VarsSignedUpdate(
                outPath, target.Name, target.VendorGuid, (uint)attributes, parse.GetValue(append), timeStamp.ToString(), signer.Subject,
                auth.SignedData.Length, payload.Length, encoded.Length);
            if (parse.GetValue(json))
                CliJson.Write(summary, UefiJsonContext.Shapes.VarsSignedUpdate, parse.Out());
            else
                parse.Out().WriteLine($"Wrote {outPath}: {(summary.Append ? "append to" : payload.Length == 0 ? "delete" : "replace")} {target.Name} " +
                    $"({payload.Length}-byte value, attributes 0x{summary.Attributes:X}), timestamp {summary.TimeStamp}, signed by {signer.Subject}.");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static byte[] Payload(string? input, string[] add, bool delete, Guid owner)
    {
        int sources = (input is null ? 0 : 1) + (add.Length == 0 ? 0 : 1) + (delete ? 1 : 0);
        if (sources != 1)
            throw new CliException(ExitCode.BadInput, "Give exactly one of --in ESL, --add ENTRY… or --delete.");
        if (delete)
            return [];
        if (input is not null)
        {
            if (!File.Exists(input))
                throw new CliException(ExitCode.BadInput, $"Signature list file not found: {input}");
            byte[] esl = File.ReadAllBytes(input);
            if (!EfiSignatureList.TryParseAll(esl, out _, out string? error, out long offset))
                throw new CliException(ExitCode.BadInput, $"{input} is not a list of EFI_SIGNATURE_LISTs: {error} (at byte {offset}).");
            return esl;
        }

        return SignatureDatabaseEntry.EncodeLists(add.Select(a => KeyMaterialFiles.LoadEntry(a, owner)));
    }

    private static DateTimeOffset ParseTime(string? text)
    {
        if (text is null)
            return DateTimeOffset.UtcNow;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
            return value;
        throw new CliException(ExitCode.BadInput, $"--timestamp '{text}' is not an ISO 8601 time.");
    }
}
