using System.CommandLine;
using System.Net;
using System.Text.Json;
using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.Cli.Commands.Group;

/// <summary><c>tl group create|list|show|delete</c>: resource groups, as <c>az group</c>.</summary>
internal static class GroupCommands
{
    private static readonly TableColumn[] Columns =
    [
        new("Name", g => ArmOutput.At(g, "name")),
        new("Location", g => ArmOutput.At(g, "location")),
        new("Status", g => ArmOutput.At(g, "properties.provisioningState")),
    ];

    public static Command Create()
    {
        var command = new Command("group", "Resource groups of the control plane (as az group).");
        command.Subcommands.Add(CreateCreate());
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateShow());
        command.Subcommands.Add(CreateDelete());
        return command;
    }

    private static Command CreateCreate()
    {
        var name = ArmOptions.Name("resource group");
        var location = new Option<string>("--location", "-l") { Description = "Location (any Azure region name; a label on this platform).", DefaultValueFactory = _ => "local" };
        var tags = new Option<string[]>("--tags")
        {
            Description = "Space-separated tags: key[=value] (as az). 'trustedLaunch.registeringHosts=HOST[,HOST]|*' lets those hosts register " +
                "libvirt domains and restored disks into the group.",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("create", "Create (or update) a resource group. Exit 0 ok, 2 refused (the message is ARM's), 3 no control plane.") { name, location, tags };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string[] given = parse.GetValue(tags) ?? [];
            Dictionary<string, string>? tagged = given.Length == 0 ? null : given.Select(t => t.Split('=', 2)).DistinctBy(p => p[0], StringComparer.OrdinalIgnoreCase).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
            byte[] body = ArmApi.Json(new ResourceGroupResource { Location = parse.GetValue(location), Tags = tagged }, ControlPlaneJson.Web.ResourceGroupResource);
            ArmAnswer answer = await api.SendAsync(HttpMethod.Put, await api.GroupPathAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false),
                ArmApi.ResourcesApiVersion, body, cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), answer.Body!.Value, Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateList()
    {
        var command = new Command("list", "List the resource groups.");
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string path = $"subscriptions/{await api.SubscriptionAsync(cancellationToken).ConfigureAwait(false)}/resourcegroups";
            ArmAnswer answer = await api.GetAsync(path, ArmApi.ResourcesApiVersion, cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), answer.Body!.Value.GetProperty("value"), Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateShow()
    {
        var name = ArmOptions.Name("resource group");
        var command = new Command("show", "Show one resource group.") { name };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            ArmAnswer answer = await api.GetAsync(await api.GroupPathAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false),
                ArmApi.ResourcesApiVersion, cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), answer.Body!.Value, Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateDelete()
    {
        var name = ArmOptions.Name("resource group");
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not prompt (tl never prompts; accepted for az scripts)." };
        var noWait = ArmOptions.NoWait();
        var command = new Command("delete", "Delete a resource group and every VM in it.") { name, yes, noWait };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string group = parse.GetValue(name)!;
            ArmAnswer answer = await api.SendAsync(HttpMethod.Delete, await api.GroupPathAsync(group, cancellationToken).ConfigureAwait(false),
                ArmApi.ResourcesApiVersion, null, cancellationToken).ConfigureAwait(false);
            if (answer.Status == HttpStatusCode.Accepted && !parse.GetValue(noWait) && answer.Location is string monitor)
                await WaitForGroupDeletionAsync(api, monitor, group, parse.Error(), cancellationToken).ConfigureAwait(false);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    // ARM's resource-group deletion: the Location monitor answers 202 while it runs, then 200.
    private static async Task WaitForGroupDeletionAsync(ArmApi api, string monitor, string group, TextWriter progress, CancellationToken cancellationToken)
    {
        progress.WriteLine($"tl: deleting resource group '{group}'");
        while ((await api.SendAsync(HttpMethod.Get, monitor, null, null, cancellationToken).ConfigureAwait(false)).Status == HttpStatusCode.Accepted)
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
    }
}
