using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.Cli.Commands.Arm;

namespace TrustedLaunch.Cli.Commands.Vm;

/// <summary>
/// <c>tl vm</c>, with az's habits: create, list, show, start, stop, deallocate, restart, delete, get-instance-view, boot-log,
/// and the platform's own attest (now, with the result) and identity (the vTPM's EK and AK, as GCP's
/// getShieldedInstanceIdentity). Each talks to the control plane (<c>--server</c>, else <c>TL_SERVER</c>).
/// </summary>
internal static class VmCommands
{
    internal static readonly TableColumn[] Columns =
    [
        new("Name", v => ArmOutput.At(v, "name")),
        new("ResourceGroup", v => ResourceGroupOf(ArmOutput.At(v, "id"))),
        new("Location", v => ArmOutput.At(v, "location")),
        new("Size", v => ArmOutput.At(v, "properties.hardwareProfile.vmSize")),
        new("SecurityType", v => ArmOutput.At(v, "properties.securityProfile.securityType") ?? "Standard"),
        new("ProvisioningState", v => ArmOutput.At(v, "properties.provisioningState")),
        new("PowerState", v => v.TryGetProperty("properties", out JsonElement p) && p.TryGetProperty("instanceView", out JsonElement iv) ? ArmOutput.PowerState(iv) : null),
    ];

    private static readonly TableColumn[] InstanceColumns =
    [
        new("Name", v => ArmOutput.At(v, "name")),
        new("PowerState", v => InstanceView(v) is JsonElement iv ? ArmOutput.Status(iv, "PowerState/") : null),
        new("Provisioning", v => InstanceView(v) is JsonElement iv ? ArmOutput.Status(iv, "ProvisioningState/") : null),
        new("BootVerdict", v => InstanceView(v) is JsonElement iv ? ArmOutput.Status(iv, "BootVerdict/") : null),
        new("GuestAttestation", v => InstanceView(v) is JsonElement iv ? ArmOutput.Status(iv, "GuestAttestation/") : null),
    ];

    public static Command Create()
    {
        var command = new Command("vm", "Virtual machines of the control plane (as az vm), run by its hosts.");
        command.Subcommands.Add(VmCreateCommand.Create());
        command.Subcommands.Add(VmUpdateCommand.Create());
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateShow("show", "Show a VM (-d: with its power state).", expand: false, Columns));
        command.Subcommands.Add(CreateShow("get-instance-view", "Show a VM with its instance view: provisioning and power state, boot verdict, latest attestation.",
            expand: true, InstanceColumns));
        command.Subcommands.Add(CreateAction("start", "start", "Start a VM.", "starting"));
        command.Subcommands.Add(CreateAction("stop", "powerOff", "Power a VM off; it stays allocated on its host.", "stopping"));
        command.Subcommands.Add(CreateAction("deallocate", "deallocate", "Power a VM off and release its host capacity (its files stay on its host).", "deallocating"));
        command.Subcommands.Add(CreateAction("restart", "restart", "Restart a running VM.", "restarting"));
        command.Subcommands.Add(CreateDelete());
        command.Subcommands.Add(VmDiagnosticsCommands.CreateBootLog());
        command.Subcommands.Add(VmDiagnosticsCommands.CreateAttest());
        command.Subcommands.Add(VmDiagnosticsCommands.CreateIdentity());
        command.Subcommands.Add(VmSecureBootCommands.Create());
        return command;
    }

    /// <summary>What az vm create prints once the VM runs (id, location, power state, resource group), plus its vmId and security type.</summary>
    public static void WriteSummary(TextWriter output, string format, JsonElement vm, string group)
    {
        JsonElement? view = InstanceView(vm);
        var summary = new JsonObject
        {
            ["id"] = ArmOutput.At(vm, "id"),
            ["location"] = ArmOutput.At(vm, "location"),
            ["powerState"] = view is JsonElement iv ? ArmOutput.PowerState(iv) : null,
            ["resourceGroup"] = group,
            ["securityType"] = ArmOutput.At(vm, "properties.securityProfile.securityType") ?? "Standard",
            ["vmId"] = ArmOutput.At(vm, "properties.vmId"),
        };
        ArmOutput.Write(output, format, ArmOutput.Element(summary), Columns);
    }

    internal static JsonElement? InstanceView(JsonElement vm) =>
        vm.TryGetProperty("properties", out JsonElement p) && p.TryGetProperty("instanceView", out JsonElement iv) ? iv : null;

    internal static string? ResourceGroupOf(string? id)
    {
        string[] parts = (id ?? "").Split('/');
        int at = Array.FindIndex(parts, p => p.Equals("resourceGroups", StringComparison.OrdinalIgnoreCase));
        return at >= 0 && at + 1 < parts.Length ? parts[at + 1] : null;
    }

    private static Command CreateList()
    {
        var group = new Option<string?>("--resource-group", "-g") { Description = "Only the VMs of this resource group." };
        var details = new Option<bool>("--show-details", "-d") { Description = "Add each VM's instance view (power state)." };
        var command = new Command("list", "List VMs.") { group, details };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string path = parse.GetValue(group) is string rg
                ? $"{await api.GroupPathAsync(rg, cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Compute/virtualMachines"
                : $"subscriptions/{await api.SubscriptionAsync(cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Compute/virtualMachines";
            var vms = new List<JsonElement>();
            JsonElement page = (await api.GetAsync(path, ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value;
            while (true)
            {
                vms.AddRange(page.GetProperty("value").EnumerateArray());
                if (!page.TryGetProperty("nextLink", out JsonElement link) || link.GetString() is not string next)
                    break;
                page = (await api.SendAsync(HttpMethod.Get, next, null, null, cancellationToken).ConfigureAwait(false)).Body!.Value; // it carries its api-version
            }

            return await WriteListAsync(api, parse, arm, vms, parse.GetValue(details), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> WriteListAsync(ArmApi api, ParseResult parse, ArmArguments arm, List<JsonElement> vms, bool details,
        CancellationToken cancellationToken)
    {
        if (details)
        {
            for (int i = 0; i < vms.Count; i++)
            {
                string id = ArmOutput.At(vms[i], "id")!;
                vms[i] = (await api.GetAsync(id.TrimStart('/') + "?$expand=instanceView", ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value;
            }
        }

        ArmOutput.Write(parse.Out(), arm.Format(parse), ArmOutput.Element(vms), Columns);
        return (int)ExitCode.Ok;
    }

    private static Command CreateShow(string verb, string description, bool expand, IReadOnlyList<TableColumn> columns)
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("VM");
        var details = new Option<bool>("--show-details", "-d") { Description = "Add the instance view (power state)." };
        var command = new Command(verb, description) { group, name };
        if (!expand)
            command.Options.Add(details);
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string path = await api.VmPathAsync(parse.GetValue(group)!, parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            if (expand || parse.GetValue(details))
                path += "?$expand=instanceView";
            ArmAnswer answer = await api.GetAsync(path, ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), answer.Body!.Value, columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateAction(string verb, string action, string description, string progress)
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("VM");
        var noWait = ArmOptions.NoWait();
        var command = new Command(verb, $"{description} Exit 0 done, 1 the operation failed, 2 refused (ARM's code and message), 3 no control plane.")
        {
            group, name, noWait,
        };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string vm = parse.GetValue(name)!;
            string path = await api.VmPathAsync(parse.GetValue(group)!, vm, cancellationToken).ConfigureAwait(false);
            ArmAnswer answer = await api.SendAsync(HttpMethod.Post, $"{path}/{action}", ArmApi.ComputeApiVersion, [], cancellationToken).ConfigureAwait(false);
            if (!parse.GetValue(noWait) && answer.AsyncOperation is string operation)
                await api.WaitAsync(operation, $"{progress} VM '{vm}':", parse.Error(), cancellationToken).ConfigureAwait(false);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateDelete()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("VM");
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not prompt (tl never prompts; accepted for az scripts)." };
        var noWait = ArmOptions.NoWait();
        var command = new Command("delete", "Delete a VM (its OS disk and VMGS go or stay as its deleteOption says). Exit 0 deleted (or absent), 1 failed, 2 refused, 3 no control plane.")
        {
            group, name, yes, noWait,
        };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string vm = parse.GetValue(name)!;
            string path = await api.VmPathAsync(parse.GetValue(group)!, vm, cancellationToken).ConfigureAwait(false);
            ArmAnswer answer = await api.SendAsync(HttpMethod.Delete, path, ArmApi.ComputeApiVersion, null, cancellationToken).ConfigureAwait(false);
            if (answer.Status == HttpStatusCode.Accepted && !parse.GetValue(noWait) && answer.AsyncOperation is string operation)
                await api.WaitAsync(operation, $"deleting VM '{vm}':", parse.Error(), cancellationToken).ConfigureAwait(false);
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
