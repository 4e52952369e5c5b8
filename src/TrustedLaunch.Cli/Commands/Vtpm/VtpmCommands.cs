using System.CommandLine;
using TrustedLaunch.Storage;
using TrustedLaunch.Tpm.Protocol;
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
            try
            {
                SealingKey.Generate(path);
            }
            catch (SealingKeyException e)
            {
                throw new CliException(ExitCode.BadInput, e.Message);
            }

            Console.WriteLine($"Key written to {Path.GetFullPath(path)} (mode 0600)");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateManufacture()
    {
        var state = new Option<string>("--state") { Description = "State file to create (must not exist).", Required = true };
        var keyFile = new Option<string>("--key-file") { Description = "Key file sealing the state.", Required = true };
        var ca = new Option<string>("--ca") { Description = "Platform PKI folder made by 'tl ca init'.", Required = true };
        var vmId = new Option<string?>("--vm-id") { Description = "VM identifier for the certificates (default: a new GUID)." };
        var banks = new Option<string>("--banks") { Description = "Active PCR banks, comma-separated: sha1, sha256, sha384, sha512.", DefaultValueFactory = _ => "sha256,sha1" };
        var createKey = new Option<bool>("--create-key") { Description = "Create --key-file first (mode 0600) if it does not exist." };
        var json = new Option<bool>("--json") { Description = "Print the identity as JSON." };
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
            IPlatformCa platformCa;
            try
            {
                platformCa = FilePlatformCa.Open(parse.GetValue(ca)!);
            }
            catch (PlatformCaException e)
            {
                throw new CliException(ExitCode.BadInput, e.Message);
            }

            var options = new VTpmManufactureOptions { VmId = VmIdText.ParseOrNew(parse.GetValue(vmId)), PcrBanks = pcrBanks };
            VTpmIdentity identity = WithLibtpms(() =>
            {
                try
                {
                    return VTpmManufacturer.Manufacture(VTpmStateFile.Open(statePath, key), platformCa, options);
                }
                catch (PlatformCaException e)
                {
                    throw new CliException(ExitCode.BadInput, e.Message);
                }
            });
            Print(identity, parse.GetValue(json), $"Manufactured vTPM {identity.VmId} into {Path.GetFullPath(statePath)}");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateShow()
    {
        var state = new Option<string>("--state") { Description = "State file made by 'tl vtpm manufacture'.", Required = true };
        var keyFile = new Option<string>("--key-file") { Description = "Key file sealing the state.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the identity as JSON." };
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
            VTpmIdentity identity = WithLibtpms(() =>
            {
                var (store, image) = VTpmStateFile.OpenReadOnly(statePath, key, LibTpmsEngine.LibraryVersion);
                using LibTpmsEngine engine = LibTpmsEngine.Open(store, image);
                engine.Initialize();
                using var client = new TpmClient(engine, ownsTransport: false);
                client.Startup(TpmSu.Clear);
                return VTpmIdentityReader.Read(client, image.LibtpmsVersion);
            });
            Print(identity, parse.GetValue(json), $"vTPM state {Path.GetFullPath(statePath)}");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static T WithLibtpms<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (VTpmStateException e)
        {
            throw new CliException(e.Failure == VTpmStateFailure.Unavailable ? ExitCode.EnvironmentProblem : ExitCode.BadInput, e.Message, e);
        }
        catch (LibTpmsException e)
        {
            throw new CliException(ExitCode.BadInput, e.Message, e);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new CliException(ExitCode.EnvironmentProblem, $"libtpms cannot be loaded ({e.Message}); install libtpms0", e);
        }
    }

    private static SealingKey LoadKey(string path, bool create)
    {
        try
        {
            return create && !File.Exists(path) ? SealingKey.Generate(path) : SealingKey.Load(path);
        }
        catch (SealingKeyException e)
        {
            throw new CliException(ExitCode.BadInput, e.Message, e);
        }
    }

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

    private static void Print(VTpmIdentity identity, bool json, string title)
    {
        if (json)
        {
            CliJson.Write(identity);
            return;
        }

        Console.WriteLine(title);
        Console.WriteLine($"  VM id            {identity.VmId}");
        Console.WriteLine($"  libtpms          {identity.LibtpmsVersion}");
        Console.WriteLine($"  PCR banks        {string.Join(", ", identity.PcrBanks)}");
        Console.WriteLine($"  persistent keys  {string.Join(", ", identity.PersistentHandles)}");
        Console.WriteLine($"  NV indices       {string.Join(", ", identity.NvIndices)}");
        foreach (VTpmKeyIdentity key in identity.Keys)
        {
            Console.WriteLine($"  {key.Role} at {key.PersistentHandle} ({key.Algorithm ?? "absent"})");
            Console.WriteLine($"    name         {key.Name}");
            Console.WriteLine($"    certificate  NV {key.CertificateIndex}: {key.CertificateSubject ?? "absent"}");
            if (key.CertificateIssuer is not null)
                Console.WriteLine($"    issuer       {key.CertificateIssuer} (serial {key.CertificateSerial}, until {key.CertificateNotAfter:yyyy-MM-dd})");
        }
    }
}
