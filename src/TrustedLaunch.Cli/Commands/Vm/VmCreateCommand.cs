using System.CommandLine;
using System.Text.Json;
using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.Cli.Commands.Vm;

/// <summary>
/// <c>tl vm create</c> with az's flags: builds Azure's VM body (nothing of its own unless asked: the extension object only
/// for <c>--attestation-interval</c>/<c>--reference-policy</c>), PUTs it, and waits for the create operation with one
/// progress line (<c>--no-wait</c> returns the 201 answer at once). The rules are the control plane's: a refusal prints
/// ARM's code and message and exits 2.
/// </summary>
internal static class VmCreateCommand
{
    public static Command Create()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("VM");
        var image = new Option<string?>("--image") { Description = "debian-12 (Generation 2), debian-12-gen1, a URN publisher:offer:sku:version, or an image id." };
        var attach = new Option<string?>("--attach-os-disk")
        {
            Description = "Instead of --image: an Unattached disk (its name in the resource group, or its id), which the VM takes with its guest state (same vTPM, " +
                "AK certified for the new VM), or a snapshot (name or id) whose OS disk and UEFI variables the VM starts from, with a new vTPM identity.",
        };
        var size = new Option<string>("--size") { Description = "The VM size (GET …/vmSizes lists them).", DefaultValueFactory = _ => "Standard_DS1_v2" };
        var location = new Option<string?>("--location", "-l") { Description = "Location; default the resource group's." };
        var securityType = new Option<string?>("--security-type") { Description = "TrustedLaunch or Standard; default: the service's (Trusted Launch for a Gen2 image)." };
        securityType.AcceptOnlyFromAmong("TrustedLaunch", "Standard", "ConfidentialVM");
        var secureBoot = new Option<bool?>("--enable-secure-boot") { Description = "true or false: UEFI Secure Boot (Trusted Launch)." };
        var vtpm = new Option<bool?>("--enable-vtpm") { Description = "true or false: a vTPM (Trusted Launch)." };
        var ephemeral = new Option<bool>("--ephemeral-os-disk") { Description = "An ephemeral OS disk (diffDiskSettings; refused with Trusted Launch)." };
        var ultraSsd = new Option<bool?>("--ultra-ssd-enabled") { Description = "true or false: Ultra SSD capability (refused with Trusted Launch)." };
        var hostGroup = new Option<string?>("--host-group") { Description = "A dedicated host group id (refused with Trusted Launch)." };
        var host = new Option<string?>("--host") { Description = "A dedicated host id (refused with Trusted Launch)." };
        var deleteOption = new Option<string?>("--os-disk-delete-option") { Description = "Delete or Detach: the OS disk and VMGS when the VM is deleted (default: Azure's, Detach)." };
        deleteOption.AcceptOnlyFromAmong("Delete", "Detach");
        var computerName = new Option<string?>("--computer-name") { Description = "The guest's host name (default: the VM name)." };
        var interval = new Option<int?>("--attestation-interval") { Description = "Seconds between attestations (trustedLaunchExtensions; default 60)." };
        var policy = new Option<string?>("--reference-policy") { Description = "A stored reference policy the boots must meet (trustedLaunchExtensions)." };
        var template = new Option<string?>("--secure-boot-template")
        {
            Description = "The Secure Boot keys enrolled: microsoft (default: 2011 and 2023 CAs), microsoft-2023 or microsoft-2011 (trustedLaunchExtensions).",
        };
        var noWait = ArmOptions.NoWait();
        var command = new Command("create",
            "Create a VM (as az vm create) and wait until it runs. Exit 0 running, 1 the create failed (e.g. SecureBootViolation), 2 refused (ARM's code and message), 3 no control plane.")
        {
            group, name, image, attach, size, location, securityType, secureBoot, vtpm, ephemeral, ultraSsd, hostGroup, host, deleteOption, computerName,
            interval, policy, template, noWait,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(image) is null) == (result.GetValue(attach) is null))
                result.AddError("Give exactly one of --image and --attach-os-disk.");
        });
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            // A bad --image is refused before any request.
            ImageReference? imageReference = parse.GetValue(image) is string wanted ? VmImages.Parse(wanted) : null;
            using ArmApi api = arm.Connect(parse);
            string rg = parse.GetValue(group)!, vm = parse.GetValue(name)!;
            // A name is a disk of the group when there is one (as az), else a snapshot of the group.
            string? snapshotId = parse.GetValue(attach) is string from
                ? from.StartsWith('/') ? from
                    : await Disk.DiskCommands.FindAsync(api, rg, from, cancellationToken).ConfigureAwait(false)
                        ?? "/" + await Snapshot.SnapshotCommands.PathAsync(api, rg, from, cancellationToken).ConfigureAwait(false)
                : null;
            string where = parse.GetValue(location)
                ?? ArmOutput.At((await api.GetAsync(await api.GroupPathAsync(rg, cancellationToken).ConfigureAwait(false), ArmApi.ResourcesApiVersion,
                    cancellationToken).ConfigureAwait(false)).Body!.Value, "location")!;
            var extensions = parse.GetValue(interval) is null && parse.GetValue(policy) is null && parse.GetValue(template) is null
                ? null
                : new TrustedLaunchExtensions
                {
                    AttestationIntervalSeconds = parse.GetValue(interval), ReferencePolicy = parse.GetValue(policy), SecureBootTemplate = parse.GetValue(template),
                };
            var properties = new VirtualMachineProperties
            {
                HardwareProfile = new HardwareProfile { VmSize = parse.GetValue(size) },
                StorageProfile = new StorageProfile
                {
                    ImageReference = imageReference,
                    OsDisk = new OSDisk
                    {
                        CreateOption = snapshotId is null ? "FromImage" : "Attach",
                        ManagedDisk = snapshotId is null ? null : new ManagedDiskParameters { Id = snapshotId },
                        DeleteOption = parse.GetValue(deleteOption),
                        DiffDiskSettings = parse.GetValue(ephemeral) ? new DiffDiskSettings { Option = "Local" } : null,
                    },
                },
                SecurityProfile = parse.GetValue(securityType) is null && parse.GetValue(secureBoot) is null && parse.GetValue(vtpm) is null
                    ? null
                    : new SecurityProfile
                    {
                        SecurityType = parse.GetValue(securityType),
                        UefiSettings = parse.GetValue(secureBoot) is null && parse.GetValue(vtpm) is null
                            ? null
                            : new UefiSettings { SecureBootEnabled = parse.GetValue(secureBoot), VTpmEnabled = parse.GetValue(vtpm) },
                    },
                AdditionalCapabilities = parse.GetValue(ultraSsd) is bool ultra ? new AdditionalCapabilities { UltraSSDEnabled = ultra } : null,
                HostGroup = parse.GetValue(hostGroup) is string hg ? new SubResource { Id = hg } : null,
                Host = parse.GetValue(host) is string h ? new SubResource { Id = h } : null,
                OSProfile = new OSProfile { ComputerName = parse.GetValue(computerName) ?? vm },
                TrustedLaunchExtensions = extensions,
            };
            byte[] body = ArmApi.Json(new VirtualMachineResource { Location = where, Properties = properties }, ControlPlaneJson.Web.VirtualMachineResource);
            string path = await api.VmPathAsync(rg, vm, cancellationToken).ConfigureAwait(false);
            ArmAnswer created = await api.SendAsync(HttpMethod.Put, path, ArmApi.ComputeApiVersion, body, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(noWait) || created.AsyncOperation is null)
            {
                ArmOutput.Write(parse.Out(), arm.Format(parse), created.Body!.Value, VmCommands.Columns);
                return (int)ExitCode.Ok;
            }

            await api.WaitAsync(created.AsyncOperation, $"creating VM '{vm}' in '{rg}':", parse.Error(), cancellationToken).ConfigureAwait(false);
            JsonElement shown = (await api.GetAsync(path + "?$expand=instanceView", ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value;
            VmCommands.WriteSummary(parse.Out(), arm.Format(parse), shown, rg);
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
