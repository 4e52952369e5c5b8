using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.Cli.Commands.Vm;

namespace TrustedLaunch.Cli.Commands.Vmss;

/// <summary>
/// <c>tl vmss</c>, with az's habits: create, list, show, scale (<c>PATCH sku.capacity</c>), delete and list-instances
/// (full VMs, each with its own VMGS and vTPM) of flexible scale sets.
/// </summary>
internal static class VmssCommands
{
    internal static readonly TableColumn[] Columns =
    [
        new("Name", v => ArmOutput.At(v, "name")),
        new("ResourceGroup", v => VmCommands.ResourceGroupOf(ArmOutput.At(v, "id"))),
        new("Location", v => ArmOutput.At(v, "location")),
        new("Capacity", v => ArmOutput.At(v, "sku.capacity")),
        new("Size", v => ArmOutput.At(v, "sku.name")),
        new("SecurityType", v => ArmOutput.At(v, "properties.virtualMachineProfile.securityProfile.securityType") ?? "Standard"),
        new("Orchestration", v => ArmOutput.At(v, "properties.orchestrationMode")),
        new("ProvisioningState", v => ArmOutput.At(v, "properties.provisioningState")),
    ];

    public static Command Create()
    {
        var command = new Command("vmss", "Flexible virtual machine scale sets of the control plane (as az vmss): each instance is a full VM.");
        command.Subcommands.Add(VmssCreateCommand.Create());
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateShow());
        command.Subcommands.Add(CreateScale());
        command.Subcommands.Add(CreateDelete());
        command.Subcommands.Add(CreateListInstances());
        return command;
    }

    internal static string Path(string groupPath, string name) => $"{groupPath}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}";

    private static async Task<string> PathAsync(ArmApi api, string group, string name, CancellationToken cancellationToken) =>
        Path(await api.GroupPathAsync(group, cancellationToken).ConfigureAwait(false), name);

    private static Command CreateList()
    {
        var group = new Option<string?>("--resource-group", "-g") { Description = "Only the scale sets of this resource group." };
        var command = new Command("list", "List scale sets.") { group };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string path = parse.GetValue(group) is string rg
                ? $"{await api.GroupPathAsync(rg, cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Compute/virtualMachineScaleSets"
                : $"subscriptions/{await api.SubscriptionAsync(cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Compute/virtualMachineScaleSets";
            JsonElement page = (await api.GetAsync(path, ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value;
            ArmOutput.Write(parse.Out(), arm.Format(parse), page.GetProperty("value"), Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateShow()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("scale set");
        var command = new Command("show", "Show a scale set.") { group, name };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string path = await PathAsync(api, parse.GetValue(group)!, parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), (await api.GetAsync(path, ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value, Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateScale()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("scale set");
        var capacity = new Option<long>("--new-capacity") { Description = "The number of instances to scale to.", Required = true };
        var noWait = ArmOptions.NoWait();
        var command = new Command("scale",
            "Scale a scale set out or in (PATCH sku.capacity); a scale-in deletes the newest instances with their disks and VMGS. Exit 0 done, 1 failed, 2 refused, 3 no control plane.")
        {
            group, name, capacity, noWait,
        };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string scaleSet = parse.GetValue(name)!;
            string path = await PathAsync(api, parse.GetValue(group)!, scaleSet, cancellationToken).ConfigureAwait(false);
            byte[] body = Encoding.UTF8.GetBytes(new JsonObject { ["sku"] = new JsonObject { ["capacity"] = parse.GetValue(capacity) } }.ToJsonString());
            ArmAnswer answer = await api.SendAsync(HttpMethod.Patch, path, ArmApi.ComputeApiVersion, body, cancellationToken).ConfigureAwait(false);
            if (!parse.GetValue(noWait) && answer.AsyncOperation is string operation)
            {
                await api.WaitAsync(operation, $"scaling '{scaleSet}' to {parse.GetValue(capacity).ToString(CultureInfo.InvariantCulture)}:", parse.Error(),
                    cancellationToken).ConfigureAwait(false);
                answer = await api.GetAsync(path, ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false);
            }

            ArmOutput.Write(parse.Out(), arm.Format(parse), answer.Body!.Value, Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateDelete()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("scale set");
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not prompt (tl never prompts; accepted for az scripts)." };
        var noWait = ArmOptions.NoWait();
        var command = new Command("delete", "Delete a scale set and its instances (with their disks and VMGS). Exit 0 deleted (or absent), 1 failed, 2 refused, 3 no control plane.")
        {
            group, name, yes, noWait,
        };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string scaleSet = parse.GetValue(name)!;
            string path = await PathAsync(api, parse.GetValue(group)!, scaleSet, cancellationToken).ConfigureAwait(false);
            ArmAnswer answer = await api.SendAsync(HttpMethod.Delete, path, ArmApi.ComputeApiVersion, null, cancellationToken).ConfigureAwait(false);
            if (answer.Status == HttpStatusCode.Accepted && !parse.GetValue(noWait) && answer.AsyncOperation is string operation)
                await api.WaitAsync(operation, $"deleting scale set '{scaleSet}':", parse.Error(), cancellationToken).ConfigureAwait(false);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateListInstances()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("scale set");
        var command = new Command("list-instances", "List a scale set's instances (full VMs).") { group, name };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string path = await PathAsync(api, parse.GetValue(group)!, parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            JsonElement page = (await api.GetAsync($"{path}/virtualMachines", ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value;
            ArmOutput.Write(parse.Out(), arm.Format(parse), page.GetProperty("value"), VmCommands.Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
