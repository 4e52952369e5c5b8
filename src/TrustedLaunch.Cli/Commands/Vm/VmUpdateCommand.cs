using System.CommandLine;
using System.Text.Json;
using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.Cli.Commands.Vm;

/// <summary>
/// <c>tl vm update</c> as az's: a PATCH of what the flags name. Its main use is Azure's upgrade path (docs/upgrade.md):
/// <c>--security-type TrustedLaunch --enable-secure-boot true --enable-vtpm true</c> on a deallocated Generation 2 VM
/// (the next start boots with Trusted Launch), and <c>--security-type Standard</c> to roll back.
/// </summary>
internal static class VmUpdateCommand
{
    public static Command Create()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("VM");
        var securityType = new Option<string?>("--security-type") { Description = "TrustedLaunch (upgrade a deallocated Gen2 VM) or Standard (roll back)." };
        securityType.AcceptOnlyFromAmong("TrustedLaunch", "Standard");
        var secureBoot = new Option<bool?>("--enable-secure-boot") { Description = "true or false: UEFI Secure Boot (default on upgrade: false, as Azure's)." };
        var vtpm = new Option<bool?>("--enable-vtpm") { Description = "true or false: a vTPM (default on upgrade: true)." };
        var template = new Option<string?>("--secure-boot-template")
        {
            Description = "The Secure Boot keys enrolled at the upgrade: microsoft (default), microsoft-2023, microsoft-2011 (trustedLaunchExtensions).",
        };
        template.AcceptOnlyFromAmong("microsoft", "microsoft-2023", "microsoft-2011");
        var size = new Option<string?>("--size") { Description = "A new VM size (the VM must be deallocated)." };
        var noWait = ArmOptions.NoWait();
        var command = new Command("update",
            "Update a VM (as az vm update): upgrade a deallocated Gen2 VM to Trusted Launch, roll it back, or resize it. Exit 0 done, 1 the update failed, 2 refused (ARM's code and message), 3 no control plane.")
        {
            group, name, securityType, secureBoot, vtpm, template, size, noWait,
        };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string? type = parse.GetValue(securityType);
            bool? boot = parse.GetValue(secureBoot), tpm = parse.GetValue(vtpm);
            var properties = new VirtualMachineProperties
            {
                HardwareProfile = parse.GetValue(size) is string s ? new HardwareProfile { VmSize = s } : null,
                SecurityProfile = type is null && boot is null && tpm is null ? null : new SecurityProfile
                {
                    SecurityType = type,
                    UefiSettings = boot is null && tpm is null ? null : new UefiSettings { SecureBootEnabled = boot, VTpmEnabled = tpm },
                },
                TrustedLaunchExtensions = parse.GetValue(template) is string t ? new TrustedLaunchExtensions { SecureBootTemplate = t } : null,
            };
            if (properties is { HardwareProfile: null, SecurityProfile: null, TrustedLaunchExtensions: null })
                throw new CliException(ExitCode.BadInput, "Nothing to update: give --security-type, --enable-secure-boot, --enable-vtpm, --secure-boot-template or --size.");
            using ArmApi api = arm.Connect(parse);
            string vm = parse.GetValue(name)!;
            string path = await api.VmPathAsync(parse.GetValue(group)!, vm, cancellationToken).ConfigureAwait(false);
            byte[] body = ArmApi.Json(new VirtualMachineResource { Properties = properties }, ControlPlaneJson.Web.VirtualMachineResource);
            ArmAnswer updated = await api.SendAsync(HttpMethod.Patch, path, ArmApi.ComputeApiVersion, body, cancellationToken).ConfigureAwait(false);
            JsonElement shown = updated.Body!.Value;
            if (!parse.GetValue(noWait) && updated.AsyncOperation is string operation)
            {
                await api.WaitAsync(operation, $"updating VM '{vm}':", parse.Error(), cancellationToken).ConfigureAwait(false);
                shown = (await api.GetAsync(path, ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value;
            }

            ArmOutput.Write(parse.Out(), arm.Format(parse), shown, VmCommands.Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
