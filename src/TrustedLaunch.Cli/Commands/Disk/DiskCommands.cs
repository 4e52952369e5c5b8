using System.CommandLine;
using System.Net;
using TrustedLaunch.Cli.Commands.Arm;

namespace TrustedLaunch.Cli.Commands.Disk;

/// <summary>
/// <c>tl disk list|show|delete</c>: <c>Microsoft.Compute/disks</c> with az disk's flags. Every VM's OS disk is one; a VM deleted with
/// <c>--os-disk-delete-option Detach</c> leaves it Unattached on its host with its guest state, and <c>tl vm create
/// --attach-os-disk</c> makes a new VM from it.
/// </summary>
internal static class DiskCommands
{
    public const string ApiVersion = "2024-03-02";

    private static readonly TableColumn[] Columns =
    [
        new("Name", d => ArmOutput.At(d, "name")),
        new("ResourceGroup", d => ArmOutput.At(d, "id")?.Split('/') is { Length: > 4 } id ? id[4] : null),
        new("DiskState", d => ArmOutput.At(d, "properties.diskState")),
        new("ManagedBy", d => ArmOutput.At(d, "managedBy")?.Split('/')[^1]),
        new("SecurityType", d => ArmOutput.At(d, "properties.securityProfile.securityType") ?? "Standard"),
        new("Host", d => ArmOutput.At(d, "properties.trustedLaunchDisk.hostName")),
        new("Status", d => ArmOutput.At(d, "properties.provisioningState")),
    ];

    private static readonly ComputeResourceVerbs Verbs = new("disks", "disk", ApiVersion, Columns);

    public static Command Create()
    {
        var command = new Command("disk", "Managed disks: each VM's OS disk with its guest state (as az disk; Microsoft.Compute/disks).");
        command.Subcommands.Add(Verbs.CreateList());
        command.Subcommands.Add(Verbs.CreateShow());
        command.Subcommands.Add(CreateDelete());
        return command;
    }

    public static Task<string> PathAsync(ArmApi api, string group, string name, CancellationToken cancellationToken) =>
        Verbs.PathAsync(api, group, name, cancellationToken);

    /// <summary>The id of the disk <paramref name="name"/> of the group, or null when the group has no disk of that name.</summary>
    public static async Task<string?> FindAsync(ArmApi api, string group, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        try
        {
            ArmAnswer answer = await api.GetAsync(await PathAsync(api, group, name, cancellationToken).ConfigureAwait(false), ApiVersion, cancellationToken)
                .ConfigureAwait(false);
            return ArmOutput.At(answer.Body!.Value, "id");
        }
        catch (ArmApiException e) when (e.Status == HttpStatusCode.NotFound && e.Code == "ResourceNotFound")
        {
            return null;
        }
    }

    private static Command CreateDelete()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("disk");
        var noWait = ArmOptions.NoWait();
        var command = new Command("delete",
            "Delete an Unattached disk (its host removes the OS disk and VM guest state files); an attached disk is refused. Exit 0 deleted, 2 refused, 3 no control plane.")
        {
            group, name, noWait,
        };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string disk = parse.GetValue(name)!;
            ArmAnswer answer = await api.SendAsync(HttpMethod.Delete, await PathAsync(api, parse.GetValue(group)!, disk, cancellationToken).ConfigureAwait(false),
                ApiVersion, null, cancellationToken).ConfigureAwait(false);
            if (answer.Status == HttpStatusCode.Accepted && !parse.GetValue(noWait) && answer.AsyncOperation is string operation)
                await api.WaitAsync(operation, $"deleting disk '{disk}':", parse.Error(), cancellationToken).ConfigureAwait(false);
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
