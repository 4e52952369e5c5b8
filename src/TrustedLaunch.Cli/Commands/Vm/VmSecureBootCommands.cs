using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.Cli.Commands.Vm;

/// <summary>
/// <c>tl vm secure-boot update-keys -g RG [-n NAME | --vmss NAME] [--template microsoft|microsoft-2023] [--dbx-update FILE]
/// [--max-parallel N]</c>: the Secure Boot certificate rollover through the control plane (POST …/x-tl-updateSecureBootKeys,
/// docs/secureboot-rollover.md). Without <c>-n</c> it runs over every VM of the group (or of one scale set), at most N at a
/// time, each VM its own operation: one VM's refusal or failure stops nothing else, and the report lists every VM's outcome.
/// </summary>
internal static class VmSecureBootCommands
{
    private static readonly TableColumn[] Columns =
    [
        new("Name", v => ArmOutput.At(v, "name")),
        new("Outcome", v => ArmOutput.At(v, "outcome")),
        new("Detail", v => ArmOutput.At(v, "detail")),
    ];

    public static Command Create()
    {
        var command = new Command("secure-boot", "Secure Boot keys of VMs: the 2023 certificate rollover and dbx updates.");
        command.Subcommands.Add(CreateUpdateKeys());
        return command;
    }

    private static Command CreateUpdateKeys()
    {
        var group = ArmOptions.ResourceGroup();
        var name = new Option<string?>("--name", "-n") { Description = "The VM; without it, every VM of the resource group (or of --vmss)." };
        var scaleSet = new Option<string?>("--vmss") { Description = "Only the VMs of this flexible scale set." };
        var template = new Option<string?>("--template") { Description = "Bring KEK and db to microsoft (2011 and 2023 CAs) or microsoft-2023 (2023 only); each VM's own entries stay." };
        template.AcceptOnlyFromAmong("microsoft", "microsoft-2023");
        var dbxUpdate = new Option<string?>("--dbx-update") { Description = "A signed dbx update (e.g. Microsoft's DBXUpdate.bin): refused for a VM whose KEK cannot verify it." };
        var maxParallel = new Option<int>("--max-parallel") { Description = "How many VMs are updated at once (fleet form).", DefaultValueFactory = _ => 4 };
        var noWait = ArmOptions.NoWait();
        var command = new Command("update-keys",
            "Roll VMs' Secure Boot keys: a deallocated or stopped VM's host rewrites KEK/db/dbx in its VMGS now, a running VM's at its next restart; " +
            "each is checked first against the VM's own boot chain, and its next attestation relearns the baseline for the operation. " +
            "Exit 0 every VM updated (or pending restart), 1 a VM refused or failed (named with the reason), 2 bad input, 3 no control plane.")
        {
            group, name, scaleSet, template, dbxUpdate, maxParallel, noWait,
        };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string? dbxPath = parse.GetValue(dbxUpdate);
            if (parse.GetValue(template) is null && dbxPath is null)
                throw new CliException(ExitCode.BadInput, "Nothing to do: give --template, --dbx-update or both.");
            if (dbxPath is not null && !File.Exists(dbxPath))
                throw new CliException(ExitCode.BadInput, $"dbx update {dbxPath} does not exist.");
            if (parse.GetValue(name) is not null && parse.GetValue(scaleSet) is not null)
                throw new CliException(ExitCode.BadInput, "Give --name or --vmss, not both.");
            int parallel = parse.GetValue(maxParallel);
            if (parallel is < 1 or > 64)
                throw new CliException(ExitCode.BadInput, "--max-parallel must be 1 to 64.");
            byte[] body = ArmApi.Json(new SecureBootKeyUpdateRequest
            {
                Template = parse.GetValue(template),
                DbxUpdate = dbxPath is null ? null : Convert.ToBase64String(await File.ReadAllBytesAsync(dbxPath, cancellationToken).ConfigureAwait(false)),
                DbxUpdateName = dbxPath is null ? null : Path.GetFileName(dbxPath),
            }, ControlPlaneJson.Default.SecureBootKeyUpdateRequest);

            using ArmApi api = arm.Connect(parse);
            string rg = parse.GetValue(group)!;
            IReadOnlyList<string> vms = parse.GetValue(name) is string one ? [one] : await ListAsync(api, rg, parse.GetValue(scaleSet), cancellationToken).ConfigureAwait(false);
            if (vms.Count == 0)
                throw new CliException(ExitCode.BadInput, parse.GetValue(scaleSet) is string s ? $"Scale set '{s}' in '{rg}' has no VMs." : $"Resource group '{rg}' has no VMs.");
            var results = new JsonObject[vms.Count];
            using var gate = new SemaphoreSlim(parallel);
            await Task.WhenAll(vms.Select(async (vm, i) =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    results[i] = await UpdateOneAsync(api, rg, vm, body, wait: !parse.GetValue(noWait), cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }
            })).ConfigureAwait(false);

            ArmOutput.Write(parse.Out(), arm.Format(parse), ArmOutput.Element(new JsonArray([.. results])), Columns);
            return results.Any(r => r["outcome"]!.GetValue<string>() is "Refused" or "Failed" or "Canceled") ? (int)ExitCode.VerificationFailed : (int)ExitCode.Ok;
        });
        return command;
    }

    private static async Task<IReadOnlyList<string>> ListAsync(ArmApi api, string group, string? scaleSet, CancellationToken cancellationToken)
    {
        string path = $"{await api.GroupPathAsync(group, cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Compute/virtualMachines";
        var names = new List<string>();
        JsonElement page = (await api.GetAsync(path, ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value;
        while (true)
        {
            foreach (JsonElement vm in page.GetProperty("value").EnumerateArray())
            {
                string? set = ArmOutput.At(vm, "properties.virtualMachineScaleSet.id");
                if (scaleSet is null || (set is not null && set.EndsWith("/virtualMachineScaleSets/" + scaleSet, StringComparison.OrdinalIgnoreCase)))
                    names.Add(ArmOutput.At(vm, "name")!);
            }

            if (!page.TryGetProperty("nextLink", out JsonElement link) || link.GetString() is not string next)
                return names;
            page = (await api.SendAsync(HttpMethod.Get, next, null, null, cancellationToken).ConfigureAwait(false)).Body!.Value;
        }
    }

    /// <summary>One VM: the request, then (unless it waits for a restart) its operation to the end. Never throws for the VM's own refusal.</summary>
    private static async Task<JsonObject> UpdateOneAsync(ArmApi api, string group, string vm, byte[] body, bool wait, CancellationToken cancellationToken)
    {
        JsonElement accepted;
        try
        {
            string path = await api.VmPathAsync(group, vm, cancellationToken).ConfigureAwait(false);
            accepted = (await api.SendAsync(HttpMethod.Post, $"{path}/x-tl-updateSecureBootKeys", ArmApi.ComputeApiVersion, body, cancellationToken)
                .ConfigureAwait(false)).Body!.Value;
        }
        catch (ArmApiException e) when (e.Status is HttpStatusCode refused && (int)refused < 500)
        {
            return Row(vm, "Refused", e.Describe(), null);
        }

        string status = ArmOutput.At(accepted, "status")!;
        string? operationId = ArmOutput.At(accepted, "operationId");
        if (status == "PendingRestart" || !wait)
            return Row(vm, status, ArmOutput.At(accepted, "message"), operationId);
        string operationUrl = ArmOutput.At(accepted, "operationUrl")!;
        while (true)
        {
            JsonElement operation = (await api.SendAsync(HttpMethod.Get, operationUrl, null, null, cancellationToken).ConfigureAwait(false)).Body!.Value;
            string state = ArmOutput.At(operation, "status")!;
            if (state != "InProgress")
            {
                string? detail = state == "Succeeded"
                    ? await OutcomeAsync(api, group, vm, cancellationToken).ConfigureAwait(false)
                    : $"({ArmOutput.At(operation, "error.code")}) {ArmOutput.At(operation, "error.message")}";
                return Row(vm, state, detail, operationId);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<string?> OutcomeAsync(ArmApi api, string group, string vm, CancellationToken cancellationToken)
    {
        string path = await api.VmPathAsync(group, vm, cancellationToken).ConfigureAwait(false);
        JsonElement view = (await api.GetAsync(path + "/instanceView", ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value;
        return ArmOutput.At(view, "x-tl-secureBootKeyUpdate.message");
    }

    private static JsonObject Row(string vm, string outcome, string? detail, string? operationId) => new()
    {
        ["name"] = vm, ["outcome"] = outcome, ["detail"] = detail, ["operationId"] = operationId,
    };
}
