using System.CommandLine;
using TrustedLaunch.Storage;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.VTpm.Engine;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.VTpm.State;

namespace TrustedLaunch.Cli.Commands.Vtpm;

internal static class VtpmCommands
{
    public static Command Create()
    {
        var command = new Command("vtpm", "Manufacture and inspect vTPM state.");
        command.Subcommands.Add(CreateKeygen());
        command.Subcommands.Add(CreateManufacture());
        command.Subcommands.Add(CreateShow());
        return command;
    }

    private static Command CreateKeygen()
    {
        var output = new Option<string>("--out") { Description = "Key file to create (64 hex characters, mode 0600).", Required = true };
        var command = new Command("keygen", "Create a random AES-256 key file for sealing vTPM state. Exit 0 ok, 2 the file exists.") { output };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            SealingKey.Generate(path);
            parse.Out().WriteLine($"Key written to {Path.GetFullPath(path)} (mode 0600)");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateManufacture()
    {
        var state = new Option<string>("--state") { Description = "State file to create (must not exist).", Required = true };
        var keyFile = CliOptions.KeyFile("Key file sealing the state.");
        var ca = CliOptions.Ca("Platform PKI folder made by 'tl ca init'.");
        var vmId = CliOptions.OptionalVmId("VM identifier for the certificates (default: a new GUID).");
        var banks = new Option<string>("--banks") { Description = "Active PCR banks, comma-separated: sha1, sha256, sha384, sha512.", DefaultValueFactory = _ => "sha256,sha1" };
        var createKey = new Option<bool>("--create-key") { Description = "Create --key-file first (mode 0600) if it does not exist." };
        var json = CliOptions.Json("Print the identity as JSON.");
        var command = new Command("manufacture",
            "Create a new vTPM: EK RSA-2048 + EK ECC P-256 with EK certificates, AK at 0x81000003 with its certificate at 0x01C101D0. " +
            "Exit 0 ok, 2 bad input (state exists, bad bank, CA unreadable), 3 libtpms missing.")
        {
            state, keyFile, ca, vmId, banks, createKey, json,
        };
        command.SetAction(parse =>
        {
            string statePath = parse.GetValue(state)!;
            string keyPath = parse.GetValue(keyFile)!;
            if (File.Exists(statePath))
                throw new CliException(ExitCode.BadInput, $"{statePath} already exists; a vTPM identity is never overwritten (remove it first if you mean to)");
            IReadOnlyList<TpmAlgId> pcrBanks = ParseBanks(parse.GetValue(banks)!);
            SealingKey key = LoadKey(keyPath, parse.GetValue(createKey));
            IPlatformCa platformCa = FilePlatformCa.Open(parse.GetValue(ca)!);
            var options = new VTpmManufactureOptions { VmId = VmIdText.ParseOrNew(parse.GetValue(vmId)), PcrBanks = pcrBanks };
            VTpmIdentity identity = VTpmManufacturer.Manufacture(VTpmStateFile.Open(statePath, key), platformCa, options);
            Print(parse, identity, parse.GetValue(json), $"Manufactured vTPM {identity.VmId} into {Path.GetFullPath(statePath)}");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateShow()
    {
        var state = new Option<string>("--state") { Description = "State file made by 'tl vtpm manufacture'.", Required = true };
        var keyFile = CliOptions.KeyFile("Key file sealing the state.");
        var json = CliOptions.Json("Print the identity as JSON.");
        var command = new Command("show",
            "Print a vTPM's identity (EK/AK public keys and certificates, PCR banks, NV indices) without starting a server; the file is not modified. " +
            "Exit 0 ok, 2 state missing/truncated/tampered/wrong key, 3 libtpms missing.")
        {
            state, keyFile, json,
        };
        command.SetAction(parse =>
        {
            SealingKey key = LoadKey(parse.GetValue(keyFile)!, create: false);
            string statePath = parse.GetValue(state)!;
            var (store, image) = VTpmStateFile.OpenReadOnly(statePath, key, LibTpmsEngine.LibraryVersion);
            VTpmIdentity identity;
            using (LibTpmsEngine engine = LibTpmsEngine.Open(store, image))
            {
                engine.Initialize();
                using var client = new TpmClient(engine, ownsTransport: false);
                client.Startup(TpmSu.Clear);
                identity = VTpmIdentityReader.Read(client, image.LibtpmsVersion);
            }

            Print(parse, identity, parse.GetValue(json), $"vTPM state {Path.GetFullPath(statePath)}");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static SealingKey LoadKey(string path, bool create) =>
        create && !File.Exists(path) ? SealingKey.Generate(path) : SealingKey.Load(path);

    private static List<TpmAlgId> ParseBanks(string text)
    {
        var banks = new List<TpmAlgId>();
        foreach (string name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            banks.Add(name switch
            {
                "sha1" => TpmAlgId.Sha1,
                "sha256" => TpmAlgId.Sha256,
                "sha384" => TpmAlgId.Sha384,
                "sha512" => TpmAlgId.Sha512,
                _ => throw new CliException(ExitCode.BadInput, $"--banks: '{name}' is not a PCR bank (sha1, sha256, sha384, sha512)"),
            });
        }

        if (banks.Count == 0)
            throw new CliException(ExitCode.BadInput, "--banks needs at least one bank");
        return banks;
    }

    private static void Print(ParseResult parse, VTpmIdentity identity, bool json, string title)
    {
        if (json)
        {
            CliJson.Write(identity, VtpmJsonContext.Shapes.VTpmIdentity, parse.Out());
            return;
        }

        parse.Out().WriteLine(title);
        parse.Out().WriteLine($"  VM id            {identity.VmId}");
        parse.Out().WriteLine($"  libtpms          {identity.LibtpmsVersion}");
        parse.Out().WriteLine($"  PCR banks        {string.Join(", ", identity.PcrBanks)}");
        parse.Out().WriteLine($"  persistent keys  {string.Join(", ", identity.PersistentHandles)}");
        parse.Out().WriteLine($"  NV indices       {string.Join(", ", identity.NvIndices)}");
        foreach (VTpmKeyIdentity key in identity.Keys)
        {
            parse.Out().WriteLine($"  {key.Role} at {key.PersistentHandle} ({key.Algorithm ?? "absent"})");
            parse.Out().WriteLine($"    name         {key.Name}");
            parse.Out().WriteLine($"    certificate  NV {key.CertificateIndex}: {key.CertificateSubject ?? "absent"}");
            if (key.CertificateIssuer is not null)
                parse.Out().WriteLine($"    issuer       {key.CertificateIssuer} (serial {key.CertificateSerial}, until {key.CertificateNotAfter:yyyy-MM-dd})");
        }
    }
}
