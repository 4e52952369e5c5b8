using System.CommandLine;
using System.Net;
using System.Text.Json;
using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Snapshots;

namespace TrustedLaunch.Cli.Commands.Snapshot;

/// <summary>
/// <c>tl snapshot create|list|show|delete</c>: <c>Microsoft.Compute/snapshots</c> with az snapshot's flags. A snapshot is a crash-consistent copy of a
/// VM's OS disk (a running one is paused for it) and its VM guest state (VMGS), taken as one pair by the VM's host; <c>tl vm create
/// --attach-os-disk</c> makes a new VM (a new vTPM identity) from it.
/// </summary>
internal static class SnapshotCommands
{
    public const string ApiVersion = "2024-03-02";

    private static readonly TableColumn[] Columns =
    [
        new("Name", s => ArmOutput.At(s, "name")),
        new("ResourceGroup", s => ArmOutput.At(s, "id")?.Split('/') is { Length: > 4 } id ? id[4] : null),
        new("SecurityType", s => ArmOutput.At(s, "properties.securityProfile.securityType") ?? "Standard"),
        new("DiskSizeBytes", s => ArmOutput.At(s, "properties.diskSizeBytes")),
        new("Source", s => ArmOutput.At(s, "properties.creationData.sourceResourceId")?.Split('/')[^1]),
        new("Host", s => ArmOutput.At(s, "properties.trustedLaunchSnapshot.hostName")),
        new("Status", s => ArmOutput.At(s, "properties.provisioningState")),
    ];

    private static readonly ComputeResourceVerbs Verbs = new("snapshots", "snapshot", ApiVersion, Columns);

    public static Command Create()
    {
        var command = new Command("snapshot", "Snapshots of a VM's OS disk and guest state (as az snapshot; Microsoft.Compute/snapshots).");
        command.Subcommands.Add(CreateCreate());
        command.Subcommands.Add(Verbs.CreateList());
        command.Subcommands.Add(Verbs.CreateShow());
        command.Subcommands.Add(CreateDelete());
        command.Subcommands.Add(CreateRestore());
        return command;
    }

    public static Task<string> PathAsync(ArmApi api, string group, string name, CancellationToken cancellationToken) =>
        Verbs.PathAsync(api, group, name, cancellationToken);

    private static Command CreateCreate()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("snapshot");
        var source = new Option<string>("--source")
        {
            Description = "The VM whose OS disk (and guest state) to copy: its name in the resource group, or the id of the VM or of its OS disk.", Required = true,
        };
        var location = new Option<string?>("--location", "-l") { Description = "Location; default the resource group's." };
        var noWait = ArmOptions.NoWait();
        var command = new Command("create",
            "Snapshot a VM: its OS disk and VMGS as one crash-consistent pair, on its host (a running VM is paused for the copy and runs on). Exit 0 taken, 1 the host could not take it, 2 refused, 3 no control plane.")
        {
            group, name, source, location, noWait,
        };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string rg = parse.GetValue(group)!, snapshot = parse.GetValue(name)!, from = parse.GetValue(source)!;
            string groupPath = await api.GroupPathAsync(rg, cancellationToken).ConfigureAwait(false);
            string where = parse.GetValue(location)
                ?? ArmOutput.At((await api.GetAsync(groupPath, ArmApi.ResourcesApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value, "location")!;
            string sourceId = from.StartsWith('/') ? from : "/" + await api.VmPathAsync(rg, from, cancellationToken).ConfigureAwait(false);
            byte[] body = ArmApi.Json(new SnapshotResource
            {
                Location = where,
                Properties = new SnapshotProperties { CreationData = new CreationData { CreateOption = "Copy", SourceResourceId = sourceId } },
            }, ControlPlaneJson.Web.SnapshotResource);
            string path = await PathAsync(api, rg, snapshot, cancellationToken).ConfigureAwait(false);
            ArmAnswer created = await api.SendAsync(HttpMethod.Put, path, ApiVersion, body, cancellationToken).ConfigureAwait(false);
            JsonElement shown = created.Body!.Value;
            if (!parse.GetValue(noWait) && created.AsyncOperation is not null)
            {
                await api.WaitAsync(created.AsyncOperation, $"taking snapshot '{snapshot}' of '{from.Split('/')[^1]}':", parse.Error(), cancellationToken)
                    .ConfigureAwait(false);
                shown = (await api.GetAsync(path, ApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value;
            }

            ArmOutput.Write(parse.Out(), arm.Format(parse), shown, Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateRestore()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("snapshot");
        var noWait = ArmOptions.NoWait();
        var command = new Command("restore",
            "Restore a snapshot into the VM it was taken of (stopped or deallocated): disk and VMGS roll back together, same vTPM identity, recorded as a sanctioned restore. Exit 0 restored, 1 the host refused it, 2 refused, 3 no control plane.")
        {
            group, name, noWait,
        };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string snapshot = parse.GetValue(name)!;
            JsonElement shown = (await api.GetAsync(await PathAsync(api, parse.GetValue(group)!, snapshot, cancellationToken).ConfigureAwait(false), ApiVersion,
                cancellationToken).ConfigureAwait(false)).Body!.Value;
            string vm = ArmOutput.At(shown, "properties.trustedLaunchSnapshot.sourceVirtualMachineId")!;
            byte[] body = ArmApi.Json(new RestoreFromSnapshotRequest { SnapshotId = ArmOutput.At(shown, "id") }, ControlPlaneJson.Web.RestoreFromSnapshotRequest);
            ArmAnswer answer = await api.SendAsync(HttpMethod.Post, vm.TrimStart('/') + "/restoreFromSnapshot", ArmApi.ComputeApiVersion, body, cancellationToken)
                .ConfigureAwait(false);
            if (!parse.GetValue(noWait) && answer.AsyncOperation is string operation)
                await api.WaitAsync(operation, $"restoring snapshot '{snapshot}' into '{vm.Split('/')[^1]}':", parse.Error(), cancellationToken).ConfigureAwait(false);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateDelete()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("snapshot");
        var noWait = ArmOptions.NoWait();
        var command = new Command("delete", "Delete a snapshot (its host removes the disk and VMGS copies).") { group, name, noWait };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string snapshot = parse.GetValue(name)!;
            ArmAnswer answer = await api.SendAsync(HttpMethod.Delete, await PathAsync(api, parse.GetValue(group)!, snapshot, cancellationToken).ConfigureAwait(false),
                ApiVersion, null, cancellationToken).ConfigureAwait(false);
            if (answer.Status == HttpStatusCode.Accepted && !parse.GetValue(noWait) && answer.AsyncOperation is string operation)
                await api.WaitAsync(operation, $"deleting snapshot '{snapshot}':", parse.Error(), cancellationToken).ConfigureAwait(false);
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
