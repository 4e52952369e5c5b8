using System.CommandLine;
using TrustedLaunch.Cli.Commands.Uefi;
using TrustedLaunch.HostAgent.GuestState;
using TrustedLaunch.Uefi.Format.VariableStore;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.VTpm.Identity;
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
    /// Writes a new VMGS through <see cref="GuestStateProvisioner"/> (the one place guest state is made): a fresh variable
    /// store from the template, a freshly manufactured vTPM (certified by the CA in <paramref name="caDirectory"/>) and
    /// the VM identity; returns the vTPM's identity. Never overwrites.
    /// </summary>
    internal static VTpmIdentity CreateFile(string outPath, string keyPath, bool createKey, Guid id, string templateName,
        string? pk, string[] kek, string[] db, bool twoMegabytes, string caDirectory)
    {
        if (File.Exists(outPath))
            throw new CliException(ExitCode.BadInput, $"{outPath} exists; guest state is never overwritten (delete it first if you mean to).");
        if (createKey && !File.Exists(keyPath))
            VmgsKeyEncryptionKey.Generate(keyPath).Dispose();
        using VmgsKeyEncryptionKey hostKey = VmgsInputs.LoadKey(keyPath);
        if (!SecureBootTemplates.TryParse(templateName, out SecureBootTemplate kind))
            throw new CliException(ExitCode.BadInput, $"Unknown Secure Boot template '{templateName}'; use one of {string.Join(", ", SecureBootTemplates.Names)}.");
        Guid owner = SecureBootStoreOptions.TrustedLaunchOwner;
        ReadOnlyMemory<byte>? platformKey = null;
        if (pk is not null)
        {
            using var cert = KeyMaterialFiles.LoadCertificate(pk);
            platformKey = cert.RawData;
        }

        var request = new GuestStateRequest
        {
            VmId = id,
            Template = kind,
            PlatformKey = platformKey,
            Kek = [.. kek.Select(p => KeyMaterialFiles.LoadEntry(p, owner))],
            Db = [.. db.Select(p => KeyMaterialFiles.LoadEntry(p, owner))],
            Layout = twoMegabytes ? NvFlashLayout.Ovmf2M : NvFlashLayout.Ovmf4M,
        };
        return GuestStateProvisioner.Create(outPath, hostKey, request, FilePlatformCa.Open(caDirectory))!;
    }
}
