using System.CommandLine;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Interop.Firmware;
using TrustedLaunch.Interop.Swtpm;
using TrustedLaunch.Runtime.VTpm;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Cli.Commands.Interop;

/// <summary><c>tl interop …</c>: this project's vTPM and firmware under stacks it did not start (libvirt, Nova, KubeVirt, Proxmox).</summary>
internal static class InteropCommands
{
    public static Command Create()
    {
        var command = new Command("interop", ServiceVerbs.Description(ServiceVerb.Interop));
        command.Subcommands.Add(CreateInstallShims());
        command.Subcommands.Add(CreateFirmwareDescriptors());
        command.Subcommands.Add(CollectEvidenceCommand.Create());
        return command;
    }

    private static Command CreateInstallShims()
    {
        var directory = new Option<string>("--dir") { Description = "Folder for the swtpm, swtpm_setup and swtpm_ioctl launchers; put it first on libvirtd's PATH.", Required = true };
        var ca = CliOptions.Ca("Platform PKI folder made by 'tl ca init': swtpm_setup issues the EK and AK certificates from it.");
        var program = new Option<string?>("--tl-vtpm") { Description = "tl-vtpm to launch (default: beside tl, TL_VTPM, or on PATH)." };
        var command = new Command("install-swtpm-shims",
            "Write swtpm, swtpm_setup and swtpm_ioctl launchers that run tl-vtpm, so libvirt's <tpm><backend type='emulator' version='2.0'/></tpm> " +
            "gets this project's vTPM unchanged. The system swtpm is not touched. Exit 0 ok, 2 CA unreadable, 3 tl-vtpm not found.")
        {
            directory, ca, program,
        };
        command.SetAction(parse =>
        {
            string caDirectory = Path.GetFullPath(parse.GetValue(ca)!);
            _ = FilePlatformCa.Open(caDirectory); // refuse a folder that is not a platform CA now, not at a VM's first start
            string? tlVtpm = parse.GetValue(program) is { } given ? (File.Exists(given) ? Path.GetFullPath(given) : null) : VTpmOptions.FindTlVtpm();
            if (tlVtpm is null)
                throw new CliException(ExitCode.EnvironmentProblem, "tl-vtpm was not found (give --tl-vtpm PATH, set TL_VTPM, or put it on PATH)");
            string folder = Path.GetFullPath(parse.GetValue(directory)!);
            foreach (string path in SwtpmShims.Install(folder, tlVtpm, caDirectory))
                parse.Out().WriteLine($"wrote {path}");
            parse.Out().WriteLine($"libvirt finds them when its daemon runs with PATH={folder}:$PATH (tl-vtpm {tlVtpm}, platform CA {caDirectory})");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateFirmwareDescriptors()
    {
        var varsTemplate = new Option<string>("--vars-template") { Description = "Variable-store template a VM's NVRAM is copied from (e.g. made by 'tl uefi vars create').", Required = true };
        var code = new Option<string>("--code") { Description = "OVMF code image (SMM + Secure Boot build).", DefaultValueFactory = _ => "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd" };
        var name = new Option<string>("--name") { Description = "Name in the descriptor's file name.", DefaultValueFactory = _ => "trustedlaunch-x86_64-secure" };
        var priority = new Option<int>("--priority") { Description = "File-name prefix; libvirt tries lower numbers first (Debian's own start at 40).", DefaultValueFactory = _ => 30 };
        var install = new Option<string?>("--install") { Description = "Folder to write the descriptor into (e.g. /etc/qemu/firmware or $XDG_CONFIG_HOME/qemu/firmware); printed when absent." };
        var command = new Command("firmware-descriptors",
            "Print or install the QEMU firmware descriptor (interface-types, mapping, targets, features) for this project's OVMF and variable-store " +
            "template, so libvirt's <os firmware='efi'> with secure-boot/enrolled-keys picks it. Exit 0 ok, 2 a file is missing or not a variable store.")
        {
            varsTemplate, code, name, priority, install,
        };
        command.SetAction(parse =>
        {
            string template = Path.GetFullPath(parse.GetValue(varsTemplate)!);
            string executable = Path.GetFullPath(parse.GetValue(code)!);
            if (!File.Exists(executable))
                throw new CliException(ExitCode.BadInput, $"--code {executable} does not exist");
            if (!File.Exists(template))
                throw new CliException(ExitCode.BadInput, $"--vars-template {template} does not exist");
            bool enrolled = OvmfVariableStore.LoadFile(template).TryGet(WellKnownVariables.PK.VendorGuid, WellKnownVariables.PK.Name, out _);
            string json = FirmwareDescriptor.TrustedLaunch(executable, template, enrolled).ToJson();
            if (parse.GetValue(install) is not { } folder)
            {
                parse.Out().Write(json);
                return (int)ExitCode.Ok;
            }

            Directory.CreateDirectory(folder);
            string path = Path.Combine(Path.GetFullPath(folder), $"{parse.GetValue(priority):D2}-{parse.GetValue(name)}.json");
            DurableFile.Write(path, System.Text.Encoding.UTF8.GetBytes(json), overwrite: true);
            parse.Out().WriteLine($"wrote {path} ({(enrolled ? "enrolled-keys, " : "")}secure-boot, requires-smm)");
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
