using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Cli.Commands.Uefi;

/// <summary><c>tl uefi vars create --template microsoft|microsoft-2023|microsoft-2011|custom|empty … --out FILE</c>.</summary>
internal static class VarsCreateCommand
{
    public static Command Create()
    {
        var template = new Option<string>("--template")
        {
            Description = "microsoft (Microsoft's 2011 and 2023 KEKs and CAs together, as Microsoft recommends during the rollover), microsoft-2023 (only the 2023 CAs), microsoft-2011 (the pre-2023 set), custom (only the given keys) or empty (Secure Boot off).",
            Required = true,
        };
        template.AcceptOnlyFromAmong([.. SecureBootTemplates.Names]);
        var pk = new Option<string?>("--pk") { Description = "PK certificate (DER or PEM). Without it a per-VM RSA-2048 PK is generated (see --pk-key-out)." };
        var pkKeyOut = new Option<string?>("--pk-key-out") { Description = "With a generated PK: write its private key (PEM, mode 0600) here; the certificate goes beside it as .crt. Without this the key is discarded." };
        var kek = new Option<string[]>("--kek") { Description = "KEK certificate file(s), added to the template's.", AllowMultipleArgumentsPerToken = true };
        var db = new Option<string[]>("--db") { Description = "db entries: certificate files or sha256:HEX, added to the template's.", AllowMultipleArgumentsPerToken = true };
        var dbx = new Option<string[]>("--dbx") { Description = "dbx entries: certificate files or sha256:HEX (default: the SHA-256(\"\") placeholder OVMF enrolls).", AllowMultipleArgumentsPerToken = true };
        var microsoft = new Option<string[]>("--microsoft-cert") { Description = "Microsoft 2023 CA certificate file(s) to add (e.g. to a microsoft-2011 store); each goes to KEK or db by its subject, with Microsoft's owner GUID.", AllowMultipleArgumentsPerToken = true };
        var owner = new Option<string?>("--owner") { Description = $"Owner GUID of the PK and of the given KEK/db/dbx entries (default {SecureBootStoreOptions.TrustedLaunchOwner})." };
        var size = new Option<string>("--size") { Description = "Flash layout: 4m (OVMF_CODE_4M*, default) or 2m.", DefaultValueFactory = _ => "4m" };
        size.AcceptOnlyFromAmong("4m", "2m");
        var output = new Option<string>("--out") { Description = "Output file; written atomically (temp file + rename).", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out (and --pk-key-out) if they exist." };
        var json = CliOptions.Json("Print the created store's report as JSON.");
        var command = new Command("create", "Build a new variable store from scratch with Secure Boot keys. Exit 2 on bad input.")
        {
            template, pk, pkKeyOut, kek, db, dbx, microsoft, owner, size, output, force, json,
        };
        command.SetAction(parse =>
        {
            if (!SecureBootTemplates.TryParse(parse.GetValue(template), out SecureBootTemplate kind))
                throw new CliException(ExitCode.BadInput, $"Unknown Secure Boot template '{parse.GetValue(template)}'; use one of {string.Join(", ", SecureBootTemplates.Names)}.");
            string outPath = parse.GetValue(output)!;
            bool overwrite = parse.GetValue(force);
            if (!overwrite && File.Exists(outPath))
                throw new CliException(ExitCode.BadInput, $"{outPath} exists; pass --force to replace it.");
            Guid ownerGuid = SecureBootStoreOptions.TrustedLaunchOwner;
            if (parse.GetValue(owner) is { } ownerText && !Guid.TryParse(ownerText, out ownerGuid))
                throw new CliException(ExitCode.BadInput, $"--owner '{ownerText}' is not a GUID.");

            var kekEntries = (parse.GetValue(kek) ?? []).Select(k => KeyMaterialFiles.LoadEntry(k, ownerGuid)).ToList();
            var dbEntries = (parse.GetValue(db) ?? []).Select(k => KeyMaterialFiles.LoadEntry(k, ownerGuid)).ToList();
            var dbxEntries = (parse.GetValue(dbx) ?? []).Select(k => KeyMaterialFiles.LoadEntry(k, ownerGuid)).ToList();
            foreach (string path in parse.GetValue(microsoft) ?? [])
            {
                using var cert = KeyMaterialFiles.LoadCertificate(path);
                var target = MicrosoftCertificates.DatabaseFor2023Ca(cert) switch
                {
                    "KEK" => kekEntries,
                    "db" => dbEntries,
                    _ => throw new CliException(ExitCode.BadInput, $"{path} ({cert.Subject}) is not one of Microsoft's 2023 Secure Boot CAs; use --kek or --db for other certificates."),
                };
                target.Add(KeyMaterialFiles.LoadEntry(path, EfiGuids.MicrosoftOwner));
            }

            ReadOnlyMemory<byte>? pkDer = null;
            if (kind != SecureBootTemplate.Empty)
                pkDer = LoadOrGeneratePk(parse.GetValue(pk), parse.GetValue(pkKeyOut), overwrite);
            else if (parse.GetValue(pk) is not null || parse.GetValue(pkKeyOut) is not null)
                throw new CliException(ExitCode.BadInput, "The empty template takes no keys (Secure Boot off); use --template custom or microsoft.");

            OvmfVariableStore store = SecureBootStoreFactory.Create(new SecureBootStoreOptions
            {
                Template = kind,
                Layout = parse.GetValue(size) == "2m" ? NvFlashLayout.Ovmf2M : NvFlashLayout.Ovmf4M,
                PlatformKey = pkDer,
                Kek = kekEntries,
                Db = dbEntries,
                Dbx = dbxEntries,
                Owner = ownerGuid,
            });

            byte[] flash = store.ToArray();
            KeyMaterialFiles.WriteNew(outPath, flash, overwrite);
            var written = OvmfVariableStore.Load(flash);
            if (parse.GetValue(json))
                CliJson.Write(VariableStoreReport.From(outPath, written, includeDead: false), UefiJsonContext.Shapes.VariableStoreReport, parse.Out());
            else
                parse.Out().Write(VariableStoreReport.From(outPath, written, includeDead: false).ToText());
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static ReadOnlyMemory<byte> LoadOrGeneratePk(string? pkPath, string? keyOut, bool overwrite)
    {
        if (pkPath is not null)
        {
            if (keyOut is not null)
                throw new CliException(ExitCode.BadInput, "--pk-key-out only applies to a generated PK; --pk was given.");
            using var cert = KeyMaterialFiles.LoadCertificate(pkPath);
            return cert.RawData;
        }

        using var generated = PlatformKeyGenerator.Generate($"TrustedLaunch per-VM PK {Guid.NewGuid()}");
        if (keyOut is not null)
        {
            using var rsa = generated.GetRSAPrivateKey()!;
            KeyMaterialFiles.WriteNew(keyOut, System.Text.Encoding.ASCII.GetBytes(rsa.ExportPkcs8PrivateKeyPem()), overwrite, ownerOnly: true);
            KeyMaterialFiles.WriteNew(Path.ChangeExtension(keyOut, ".crt"), System.Text.Encoding.ASCII.GetBytes(generated.ExportCertificatePem()), overwrite);
        }

        return generated.RawData;
    }
}
