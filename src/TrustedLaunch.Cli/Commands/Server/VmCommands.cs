using System.CommandLine;
using TrustedLaunch.Attestation;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Cli.Commands.Server;

/// <summary>
/// <c>tl server vm add|list|remove|set-policy</c>: the VM registry, written straight into the service database (WAL:
/// safe while <c>tl server</c> runs). Registration is explicit: the service attests only registered VM ids, and the
/// verifier still requires the AK certificate to name that id and chain to the VM's CA.
/// </summary>
internal static class VmCommands
{
    public static Command Create()
    {
        var command = new Command("vm", "Register, list and remove the VMs the attestation service attests, and choose their reference policy.");
        command.Subcommands.Add(CreateAdd());
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateRemove());
        command.Subcommands.Add(CreateSetPolicy());
        return command;
    }

    private static Command CreateAdd()
    {
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var vmId = CliOptions.VmId("The VM id (the --vm-id given to 'tl vmgs create'; a UUID).");
        var ca = CliOptions.OptionalCa("Platform CA folder whose vTPM AK CA issued this VM's AK certificate; default: the server's --ca.");
        var policy = PolicyOption("The stored reference policy ('tl server policy add') its boots must meet; default: the built-in minimum.");
        var json = CliOptions.Json("Print the registration as JSON.");
        var command = new Command("add",
            "Register a VM (again: replaces its CA and policy). Exit 0 ok, 1 no such policy, 2 bad VM id, CA folder or policy name, 3 database unusable.")
        {
            data, database, vmId, ca, policy, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            Guid id = VmIdText.Parse(parse.GetValue(vmId)!);
            string? pem = null;
            if (parse.GetValue(ca) is string caDir)
            {
                pem = TrustAnchors.ReadCaDirectoryPem(caDir);
            }

            var vm = new RegisteredVm(id, pem, DateTimeOffset.UtcNow, PolicyName(parse.GetValue(policy)));
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            if (!await service.Vms.RegisterAsync(vm, cancellationToken).ConfigureAwait(false))
                throw UnknownPolicy(vm.PolicyName!);
            if (parse.GetValue(json))
                CliJson.Write(View(vm), parse.Out());
            else
                parse.Out().WriteLine($"Registered VM {id} ({(pem is null ? "trusting the server's --ca" : "with its own AK CA")}, policy {View(vm).Policy}).");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateList()
    {
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var json = CliOptions.Json("Print the VMs as JSON.");
        var command = new Command("list", "List the registered VMs. Exit 0 ok, 3 database unusable.") { data, database, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            IReadOnlyList<RegisteredVm> vms = await service.Vms.ListAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                CliJson.Write(vms.Select(View).ToArray(), parse.Out());
            }
            else
            {
                foreach (RegisteredVm vm in vms)
                    parse.Out().WriteLine($"{vm.VmId}  registered {vm.RegisteredAt:u}  {(vm.AkCaCertificatesPem is null ? "server CA" : "own AK CA")}  policy {View(vm).Policy}");
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateRemove()
    {
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var vmId = CliOptions.VmId("The VM id to remove.");
        var command = new Command("remove", "Unregister a VM (its results and baseline stay for audit). Exit 0 removed, 1 not registered, 2 bad VM id, 3 database unusable.")
        {
            data, database, vmId,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            Guid id = VmIdText.Parse(parse.GetValue(vmId)!);
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            if (!await service.Vms.RemoveAsync(id, cancellationToken).ConfigureAwait(false))
                throw new CliException(ExitCode.VerificationFailed, $"VM {id} is not registered.");
            parse.Out().WriteLine($"Removed VM {id}.");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateSetPolicy()
    {
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var vmId = CliOptions.VmId("The registered VM.");
        var policy = PolicyOption("The stored reference policy its boots must meet from the next attestation on.");
        var none = new Option<bool>("--none") { Description = "Apply the built-in minimum policy again." };
        var command = new Command("set-policy",
            "Choose a registered VM's reference policy (--policy NAME or --none). Exit 0 ok, 1 no such VM or policy, 2 bad VM id or policy name, 3 database unusable.")
        {
            data, database, vmId, policy, none,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            Guid id = VmIdText.Parse(parse.GetValue(vmId)!);
            string? name = PolicyName(parse.GetValue(policy));
            if ((name is null) != parse.GetValue(none))
                throw new CliException(ExitCode.BadInput, "Give exactly one of --policy NAME and --none.");
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            switch (await service.Vms.SetPolicyAsync(id, name, cancellationToken).ConfigureAwait(false))
            {
                case PolicyAssignment.Assigned:
                    parse.Out().WriteLine($"VM {id} now uses policy {name ?? ReferencePolicy.Minimum.Name}.");
                    return (int)ExitCode.Ok;
                case PolicyAssignment.UnknownVm:
                    throw new CliException(ExitCode.VerificationFailed, $"VM {id} is not registered.");
                default:
                    throw UnknownPolicy(name!);
            }
        });
        return command;
    }

    private static Option<string?> PolicyOption(string description) => new("--policy") { Description = description };

    /// <summary>A policy name given on the command line, checked like the service checks it; null stays null.</summary>
    private static string? PolicyName(string? name) => name is null || PolicyDocument.IsValidName(name)
        ? name
        : throw new CliException(ExitCode.BadInput, $"--policy '{name}' cannot name a stored policy: a name has {PolicyDocument.NameRule}.");

    private static CliException UnknownPolicy(string name) =>
        new(ExitCode.VerificationFailed, $"No policy is named '{name}' (tl server policy add --file FILE).");


    private static VmView View(RegisteredVm vm) =>
        new(vm.VmId, vm.RegisteredAt, vm.AkCaCertificatesPem is not null, vm.PolicyName ?? ReferencePolicy.Minimum.Name);

    private sealed record VmView(Guid VmId, DateTimeOffset RegisteredAt, bool OwnAkCa, string Policy);
}
