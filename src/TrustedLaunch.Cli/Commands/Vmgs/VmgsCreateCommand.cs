using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using TrustedLaunch.Cli.Commands.Uefi;
using TrustedLaunch.Storage;
using TrustedLaunch.Uefi.Format.VariableStore;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.VTpm.Engine;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.VTpm.State;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.Cli.Commands.Vmgs;

/// <summary>
/// <c>tl vmgs create</c>: a new VM's guest state in one file: a Secure Boot variable store from a template, a
/// freshly manufactured vTPM with platform-issued EK/AK certificates, and an identity record. Everything is
/// built in memory and the file appears atomically, so a failure never leaves a half-provisioned VMGS.
/// </summary>
internal static class VmgsCreateCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "The VMGS file to create (must not exist).", Required = true };
        var template = new Option<string>("--template")
        {
            Description = "microsoft (Microsoft's 2011 and 2023 KEKs and CAs), microsoft-2023 (only the 2023 CAs), microsoft-2011 (the pre-2023 set), custom (only the keys given), or empty (Secure Boot off).",
            Required = true,
        };
        template.AcceptOnlyFromAmong([.. SecureBootTemplates.Names]);
        var ca = CliOptions.Ca("Platform PKI folder made by 'tl ca init' (issues the vTPM's EK and AK certificates).");
        var vmId = CliOptions.OptionalVmId("VM identifier (default: a new GUID); goes into the certificates and the identity entry.");
        var keyFile = CliOptions.KeyFile("Host key-encryption key that wraps this VM's data key.");
        var createKey = new Option<bool>("--create-key") { Description = "Create --key-file first (mode 0600) if it does not exist." };
        var pk = new Option<string?>("--pk") { Description = "PK certificate (DER or PEM); default a generated per-VM PK." };
        var kek = new Option<string[]>("--kek") { Description = "KEK certificate file(s), added to the template's.", AllowMultipleArgumentsPerToken = true };
        var db = new Option<string[]>("--db") { Description = "db entries: certificate files or sha256:HEX, added to the template's.", AllowMultipleArgumentsPerToken = true };
        var size = new Option<string>("--size") { Description = "Flash layout: 4m (default) or 2m.", DefaultValueFactory = _ => "4m" };
        size.AcceptOnlyFromAmong("4m", "2m");
        var json = CliOptions.Json("Print the created file's report as JSON.");
        var command = new Command("create",
            "Create a VMGS holding a fresh UEFI variable store and a freshly manufactured vTPM. Exit 0 ok, 2 bad input (file exists, CA unreadable, bad key file), 3 libtpms missing.")
        {
            output, template, ca, vmId, keyFile, createKey, pk, kek, db, size, json,
        };
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            string keyPath = parse.GetValue(keyFile)!;
            CreateFile(outPath, keyPath, parse.GetValue(createKey), VmIdText.ParseOrNew(parse.GetValue(vmId)), parse.GetValue(template)!,
                parse.GetValue(pk), parse.GetValue(kek) ?? [], parse.GetValue(db) ?? [], parse.GetValue(size) == "2m", parse.GetValue(ca)!);
            return VmgsShowCommand.Show(outPath, keyPath, parse.GetValue(json), parse.Out());
        });
        return command;
    }

    /// <summary>
    /// Writes a new VMGS: a fresh variable store from the template, a freshly manufactured vTPM (certified by the CA in
    /// <paramref name="caDirectory"/>) and the VM identity; returns the vTPM's identity. Never overwrites.
    /// </summary>
    internal static VTpmIdentity CreateFile(string outPath, string keyPath, bool createKey, Guid id, string templateName,
        string? pk, string[] kek, string[] db, bool twoMegabytes, string caDirectory)
    {
        if (File.Exists(outPath))
            throw new CliException(ExitCode.BadInput, $"{outPath} exists; guest state is never overwritten (delete it first if you mean to).");
        if (createKey && !File.Exists(keyPath))
            VmgsKeyEncryptionKey.Generate(keyPath).Dispose();
        using VmgsKeyEncryptionKey hostKey = VmgsInputs.LoadKey(keyPath);
        byte[] nvram = BuildVariableStore(templateName, pk, kek, db, twoMegabytes);
        (byte[] tpmState, VTpmIdentity tpm) = Manufacture(caDirectory, id);
        VmgsFile.CreateWith(outPath, hostKey, file =>
        {
            file.WriteEntry(VmgsEntryId.UefiNvram, nvram);
            file.WriteEntry(VmgsEntryId.VTpmState, tpmState);
            file.WriteEntry(VmgsEntryId.VmIdentity, IdentityJson(id.ToString("D"), templateName, tpm));
        });
        return tpm;
    }

    private static byte[] BuildVariableStore(string templateName, string? pkPath, string[] kekPaths, string[] dbPaths, bool twoMegabytes)
    {
        if (!SecureBootTemplates.TryParse(templateName, out SecureBootTemplate kind))
            throw new CliException(ExitCode.BadInput, $"Unknown Secure Boot template '{templateName}'; use one of {string.Join(", ", SecureBootTemplates.Names)}.");
        Guid owner = SecureBootStoreOptions.TrustedLaunchOwner;
        if (kind == SecureBootTemplate.Empty && (pkPath is not null || kekPaths.Length > 0 || dbPaths.Length > 0))
            throw new CliException(ExitCode.BadInput, "The empty template takes no keys (Secure Boot off); use --template custom or microsoft.");
        if (kind == SecureBootTemplate.Custom && dbPaths.Length == 0)
            throw new CliException(ExitCode.BadInput, "--template custom needs at least one --db entry, or nothing would be allowed to boot.");
        ReadOnlyMemory<byte>? platformKey = null;
        if (kind != SecureBootTemplate.Empty)
        {
            if (pkPath is not null)
            {
                using var cert = KeyMaterialFiles.LoadCertificate(pkPath);
                platformKey = cert.RawData;
            }
            else
            {
                // A per-VM PK whose private key is discarded: nobody can change this VM's keys by signed update.
                using var generated = PlatformKeyGenerator.Generate($"TrustedLaunch per-VM PK {Guid.NewGuid()}");
                platformKey = generated.RawData;
            }
        }

        return SecureBootStoreFactory.Create(new SecureBootStoreOptions
        {
            Template = kind,
            Layout = twoMegabytes ? NvFlashLayout.Ovmf2M : NvFlashLayout.Ovmf4M,
            PlatformKey = platformKey,
            Kek = [.. kekPaths.Select(p => KeyMaterialFiles.LoadEntry(p, owner))],
            Db = [.. dbPaths.Select(p => KeyMaterialFiles.LoadEntry(p, owner))],
            Dbx = [],
            Owner = owner,
        }).ToArray();
    }

    private static (byte[] State, VTpmIdentity Identity) Manufacture(string caDirectory, Guid vmId)
    {
        IPlatformCa platformCa = FilePlatformCa.Open(caDirectory);
        var memory = new EphemeralNonVolatileStore();
        VTpmIdentity identity = VTpmManufacturer.Manufacture(new VTpmStateStore(memory, "new VMGS vtpm entry"), platformCa, new VTpmManufactureOptions { VmId = vmId });
        byte[] state = memory.Restore()
            ?? throw new CliException(ExitCode.EnvironmentProblem, "the vTPM manufacturer persisted no state");
        return (state, identity);
    }

    private static byte[] IdentityJson(string vmId, string template, VTpmIdentity tpm)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("vmId", vmId);
            json.WriteString("createdUtc", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("secureBootTemplate", template);
            json.WriteString("libtpms", tpm.LibtpmsVersion);
            json.WriteStartArray("vtpmCertificates");
            foreach (VTpmKeyIdentity key in tpm.Keys)
            {
                json.WriteStartObject();
                json.WriteString("role", key.Role);
                json.WriteString("subject", key.CertificateSubject);
                json.WriteString("serial", key.CertificateSerial);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
