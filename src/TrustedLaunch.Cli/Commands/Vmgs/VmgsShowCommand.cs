using System.CommandLine;
using System.Text.Json;
using TrustedLaunch.Cli.Commands.Uefi;
using TrustedLaunch.Storage;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.VTpm.Engine;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.VTpm.State;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Cli.Commands.Vmgs;

/// <summary><c>tl vmgs show FILE [--key-file KEK] [--json]</c>.</summary>
internal static class VmgsShowCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "The VMGS file." };
        var keyFile = CliOptions.OptionalKeyFile("Host key-encryption key: also decrypt and summarise the entries.");
        var json = CliOptions.Json("Print JSON.");
        var command = new Command("show",
            "Header, both header copies, entries with sizes, encryption; with the key also the identity, the UEFI variables summary and the vTPM identity. " +
            "Never writes. Exit 0 ok, 1 corrupt or wrong key, 2 malformed or missing.")
        {
            file, keyFile, json,
        };
        command.SetAction(parse => Show(parse.GetValue(file)!, parse.GetValue(keyFile), parse.GetValue(json), parse.Out()));
        return command;
    }

    /// <summary>Prints the report of the VMGS at <paramref name="path"/> (decoded too when <paramref name="keyPath"/> is given).</summary>
    internal static int Show(string path, string? keyPath, bool json, TextWriter output)
    {
        using VmgsKeyEncryptionKey? kek = keyPath is null ? null : VmgsInputs.LoadKey(keyPath);
        using FileBlockStorage slotsView = FileBlockStorage.Open(path, writable: false);
        IReadOnlyList<VmgsSlotState> slots = VmgsHeaderSlots.ReadBoth(slotsView);
        using VmgsFile vmgs = VmgsFile.Open(path, kek, writable: false);
        VmgsReport report = VmgsReport.From(path, vmgs, slots);
        if (vmgs.IsUnlocked)
            report = Decode(report, vmgs, path);
        if (json)
            CliJson.Write(report, output);
        else
            output.Write(report.ToText());
        return (int)ExitCode.Ok;
    }

    private static VmgsReport Decode(VmgsReport report, VmgsFile vmgs, string path)
    {
        if (vmgs.ReadEntry(VmgsEntryId.VmIdentity) is { } identity)
        {
            try
            {
                report = report with { Identity = JsonDocument.Parse(identity).RootElement.Clone() };
            }
            catch (JsonException)
            {
                report = report with { Identity = $"not JSON ({identity.Length} bytes)" };
            }
        }

        if (vmgs.ReadEntry(VmgsEntryId.UefiNvram) is { } nvram)
        {
            try
            {
                OvmfVariableStore store = OvmfVariableStore.Load(nvram);
                VariableStoreReport vars = VariableStoreReport.From(path, store, includeDead: false);
                int Count(string name) => vars.SecureBoot.Databases.FirstOrDefault(d => d.Name == name)?.Entries.Count ?? 0;
                report = report with
                {
                    UefiVariables = new VmgsUefiSummary(vars.Variables.Count, vars.UsedBytes, vars.SecureBoot.Enforced,
                        vars.SecureBoot.PlatformMode.ToString(), Count("PK"), Count("KEK"), Count("db"), Count("dbx")),
                };
            }
            catch (Exception e) when (e is VariableStoreException or TrustedLaunch.Uefi.Format.UefiFormatException)
            {
                throw new CliException(ExitCode.BadInput, $"the uefi-nvram entry decrypts but is not an OVMF variable store: {e.Message}");
            }
        }

        if (vmgs.ReadEntry(VmgsEntryId.VTpmState) is { } tpmState)
        {
            try
            {
                // An ephemeral store: booting the state to read its identity must never write back into the VMGS.
                var store = new VTpmStateStore(new EphemeralNonVolatileStore(tpmState), $"{path} (vtpm entry)");
                VTpmStateImage image = store.Load(LibTpmsEngine.LibraryVersion);
                using LibTpmsEngine engine = LibTpmsEngine.Open(store, image);
                engine.Initialize();
                using var client = new TpmClient(engine, ownsTransport: false);
                client.Startup(TpmSu.Clear);
                report = report with { VTpm = VTpmIdentityReader.Read(client, image.LibtpmsVersion) };
            }
            catch (Exception e) when (e is VTpmStateException or LibTpmsException or DllNotFoundException or TpmResponseException)
            {
                report = report with { VTpmError = e.Message };
            }
        }

        return report;
    }
}
