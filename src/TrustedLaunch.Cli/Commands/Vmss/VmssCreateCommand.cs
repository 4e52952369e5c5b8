using System.CommandLine;
using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.Cli.Commands.Vm;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.Cli.Commands.Vmss;

/// <summary>
/// <c>tl vmss create</c> with az's flags: builds Azure's scale set body (flexible orchestration, <c>sku {name, capacity}</c>,
/// the VM model with its <c>securityProfile</c>), PUTs it and waits until every instance runs (<c>--no-wait</c>: the 201
/// answer at once). The rules are the control plane's: a refusal prints ARM's code and message and exits 2.
/// </summary>
internal static class VmssCreateCommand
{
    public static Command Create()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("scale set");
        var image = new Option<string>("--image") { Description = "debian-12 (Generation 2), debian-12-gen1, or a URN publisher:offer:sku:version.", Required = true };
        var vmSku = new Option<string>("--vm-sku") { Description = "The instances' VM size.", DefaultValueFactory = _ => "Standard_DS1_v2" };
        var count = new Option<long>("--instance-count") { Description = "How many instances.", DefaultValueFactory = _ => 2 };
        var mode = new Option<string>("--orchestration-mode") { Description = "Flexible (Uniform is refused by the control plane).", DefaultValueFactory = _ => "Flexible" };
        mode.AcceptOnlyFromAmong("Flexible", "Uniform");
        var faultDomains = new Option<int>("--platform-fault-domain-count") { Description = "1 (max spreading), 2 or 3.", DefaultValueFactory = _ => 1 };
        var location = new Option<string?>("--location", "-l") { Description = "Location; default the resource group's." };
        var securityType = new Option<string?>("--security-type") { Description = "TrustedLaunch or Standard; default: the service's (Trusted Launch for a Gen2 image)." };
        securityType.AcceptOnlyFromAmong("TrustedLaunch", "Standard", "ConfidentialVM");
        var secureBoot = new Option<bool?>("--enable-secure-boot") { Description = "true or false: UEFI Secure Boot (Trusted Launch)." };
        var vtpm = new Option<bool?>("--enable-vtpm") { Description = "true or false: a vTPM (Trusted Launch)." };
        var prefix = new Option<string?>("--computer-name-prefix") { Description = "The instances' host names start with it (default: the scale set's name)." };
        var interval = new Option<int?>("--attestation-interval") { Description = "Seconds between attestations (trustedLaunchExtensions; default 60)." };
        var policy = new Option<string?>("--reference-policy") { Description = "A stored reference policy the boots must meet (trustedLaunchExtensions)." };
        var noWait = ArmOptions.NoWait();
        var command = new Command("create",
            "Create a flexible scale set (as az vmss create) and wait until its instances run. Exit 0 running, 1 the create failed, 2 refused (ARM's code and message), 3 no control plane.")
        {
            group, name, image, vmSku, count, mode, faultDomains, location, securityType, secureBoot, vtpm, prefix, interval, policy, noWait,
        };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            ImageReference imageReference = VmImages.Parse(parse.GetValue(image)!);
            using ArmApi api = arm.Connect(parse);
            string rg = parse.GetValue(group)!, scaleSet = parse.GetValue(name)!;
            string groupPath = await api.GroupPathAsync(rg, cancellationToken).ConfigureAwait(false);
            string where = parse.GetValue(location)
                ?? ArmOutput.At((await api.GetAsync(groupPath, ArmApi.ResourcesApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value, "location")!;
            bool? boot = parse.GetValue(secureBoot), tpm = parse.GetValue(vtpm);
            var profile = new VirtualMachineScaleSetVMProfile
            {
                OSProfile = new ScaleSetOSProfile { ComputerNamePrefix = parse.GetValue(prefix) },
                StorageProfile = new StorageProfile { ImageReference = imageReference, OsDisk = new OSDisk { CreateOption = "FromImage" } },
                SecurityProfile = parse.GetValue(securityType) is null && boot is null && tpm is null ? null : new SecurityProfile
                {
                    SecurityType = parse.GetValue(securityType),
                    UefiSettings = boot is null && tpm is null ? null : new UefiSettings { SecureBootEnabled = boot, VTpmEnabled = tpm },
                },
                TrustedLaunchExtensions = parse.GetValue(interval) is null && parse.GetValue(policy) is null ? null
                    : new TrustedLaunchExtensions { AttestationIntervalSeconds = parse.GetValue(interval), ReferencePolicy = parse.GetValue(policy) },
            };
            var resource = new VirtualMachineScaleSetResource
            {
                Location = where,
                Sku = new ScaleSetSku { Name = parse.GetValue(vmSku), Capacity = parse.GetValue(count) },
                Properties = new VirtualMachineScaleSetProperties
                {
                    OrchestrationMode = parse.GetValue(mode),
                    PlatformFaultDomainCount = parse.GetValue(faultDomains),
                    VirtualMachineProfile = profile,
                },
            };
            string path = VmssCommands.Path(groupPath, scaleSet);
            ArmAnswer created = await api.SendAsync(HttpMethod.Put, path, ArmApi.ComputeApiVersion,
                ArmApi.Json(resource, ControlPlaneJson.Web.VirtualMachineScaleSetResource), cancellationToken).ConfigureAwait(false);
            if (!parse.GetValue(noWait) && created.AsyncOperation is string operation)
                await api.WaitAsync(operation, $"creating scale set '{scaleSet}' in '{rg}':", parse.Error(), cancellationToken).ConfigureAwait(false);
            ArmAnswer shown = parse.GetValue(noWait) ? created : await api.GetAsync(path, ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), shown.Body!.Value, VmssCommands.Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
