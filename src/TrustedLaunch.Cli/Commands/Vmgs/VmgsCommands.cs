using System.CommandLine;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Storage;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.Cli.Commands.Vmgs;

/// <summary><c>tl vmgs keygen|create|show|export|import|update-keys</c>. Exit codes: 0 ok, 1 integrity (corrupt, wrong key), 2 bad input or malformed file, 3 file in use / environment.</summary>
internal static class VmgsCommands
{
    public static Command Create()
    {
        var command = new Command("vmgs", ServiceVerbs.Description(ServiceVerb.Vmgs));
        command.Subcommands.Add(CreateKeygen());
        command.Subcommands.Add(VmgsCreateCommand.Create());
        command.Subcommands.Add(VmgsShowCommand.Create());
        command.Subcommands.Add(CreateExport());
        command.Subcommands.Add(CreateImport());
        command.Subcommands.Add(VmgsUpdateKeysCommand.Create());
        return command;
    }

    private static Command CreateKeygen()
    {
        var output = new Option<string>("--out") { Description = "Key file to create (mode 0600; the same format as 'tl vtpm keygen').", Required = true };
        var command = new Command("keygen", "Create a host key-encryption key (AES-256) for VMGS files. Exit 0 ok, 2 the file exists.") { output };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Generate(path);
            parse.Out().WriteLine($"Created {Path.GetFullPath(path)} (KEK thumbprint {kek.ThumbprintHex})");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateExport()
    {
        var file = new Argument<string>("FILE") { Description = "The VMGS file." };
        var entry = new Option<string>("--entry") { Description = "uefi-nvram, vtpm, identity (or entry-N).", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write the decrypted entry (mode 0600).", Required = true };
        var keyFile = CliOptions.KeyFile("Host key-encryption key.");
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists." };
        var command = new Command("export", "Decrypt one entry to a file (e.g. the UEFI store as an OVMF_VARS image). Exit 0 ok, 1 corrupt/wrong key, 2 no such entry or bad input.")
        {
            file, entry, output, keyFile, force,
        };
        command.SetAction(parse =>
        {
            VmgsEntryId id = VmgsInputs.ParseEntry(parse.GetValue(entry)!);
            string outPath = parse.GetValue(output)!;
            if (File.Exists(outPath) && !parse.GetValue(force))
                throw new CliException(ExitCode.BadInput, $"{outPath} exists; pass --force to replace it.");
            using VmgsKeyEncryptionKey kek = VmgsInputs.LoadKey(parse.GetValue(keyFile)!);
            using VmgsFile vmgs = VmgsFile.Open(parse.GetValue(file)!, kek, writable: false);
            byte[] data = vmgs.ReadEntry(id) ?? throw new CliException(ExitCode.BadInput, $"{parse.GetValue(file)} has no {VmgsEntryNames.ToName(id)} entry.");
            File.Delete(outPath);
            OwnerOnlyFile.WriteNew(outPath, data);
            parse.Out().WriteLine($"Exported {VmgsEntryNames.ToName(id)} ({data.Length} bytes) to {Path.GetFullPath(outPath)}");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateImport()
    {
        var file = new Argument<string>("FILE") { Description = "The VMGS file (updated in place, crash-safely)." };
        var entry = new Option<string>("--entry") { Description = "uefi-nvram, vtpm, identity (or entry-N).", Required = true };
        var input = new Option<string>("--in") { Description = "The plaintext content for the entry.", Required = true };
        var keyFile = CliOptions.KeyFile("Host key-encryption key.");
        var command = new Command("import",
            "Replace one entry atomically (the old content survives any crash until the new one is committed). A uefi-nvram entry must be a valid OVMF variable store. " +
            "Exit 0 ok, 1 corrupt/wrong key, 2 bad input, 3 the file is in use (a running VM).")
        {
            file, entry, input, keyFile,
        };
        command.SetAction(parse =>
        {
            VmgsEntryId id = VmgsInputs.ParseEntry(parse.GetValue(entry)!);
            byte[] data = File.ReadAllBytes(parse.GetValue(input)!);
            if (id == VmgsEntryId.UefiNvram)
            {
                try
                {
                    _ = OvmfVariableStore.Load(data);
                }
                catch (Exception e) when (e is VariableStoreException or TrustedLaunch.Uefi.Format.UefiFormatException)
                {
                    throw new CliException(ExitCode.BadInput, $"{parse.GetValue(input)} is not an OVMF variable store: {e.Message}");
                }
            }

            if (data.Length > VmgsLayout.MaxEntryLength)
                throw new CliException(ExitCode.BadInput, $"{parse.GetValue(input)} is {data.Length} bytes; an entry holds at most {VmgsLayout.MaxEntryLength}.");
            using VmgsKeyEncryptionKey kek = VmgsInputs.LoadKey(parse.GetValue(keyFile)!);
            using VmgsFile vmgs = VmgsFile.Open(parse.GetValue(file)!, kek, writable: true);
            vmgs.WriteEntry(id, data);
            parse.Out().WriteLine($"Imported {data.Length} bytes into {VmgsEntryNames.ToName(id)} (sequence {vmgs.Header.Sequence})");
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
