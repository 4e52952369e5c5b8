using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Arm;

/// <summary>
/// The <c>list</c> and <c>show</c> verbs of a group-scoped <c>Microsoft.Compute</c> resource type (snapshots, disks): as az,
/// <c>list [-g RG]</c> reads the group's or the subscription's collection and <c>show -g RG -n NAME</c> one resource, both
/// printed with the type's table columns or as JSON.
/// </summary>
internal sealed class ComputeResourceVerbs(string type, string noun, string apiVersion, IReadOnlyList<TableColumn> columns)
{
    /// <summary>The resource's path: <c>…/resourceGroups/RG/providers/Microsoft.Compute/{type}/{name}</c>.</summary>
    public async Task<string> PathAsync(ArmApi api, string group, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        return $"{await api.GroupPathAsync(group, cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Compute/{type}/{Uri.EscapeDataString(name)}";
    }

    public Command CreateList()
    {
        var group = new Option<string?>("--resource-group", "-g") { Description = $"Only this resource group's {noun}s." };
        var command = new Command("list", $"List the {noun}s (of a resource group, or of the subscription).") { group };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string path = parse.GetValue(group) is string rg
                ? $"{await api.GroupPathAsync(rg, cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Compute/{type}"
                : $"subscriptions/{await api.SubscriptionAsync(cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Compute/{type}";
            ArmAnswer answer = await api.GetAsync(path, apiVersion, cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), answer.Body!.Value.GetProperty("value"), columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    public Command CreateShow()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name(noun);
        var command = new Command("show", $"Show one {noun}.") { group, name };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            ArmAnswer answer = await api.GetAsync(await PathAsync(api, parse.GetValue(group)!, parse.GetValue(name)!, cancellationToken).ConfigureAwait(false),
                apiVersion, cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), answer.Body!.Value, columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
