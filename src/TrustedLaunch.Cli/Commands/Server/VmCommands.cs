using System.CommandLine;
using TrustedLaunch.Attestation;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sqlite;

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
        var data = ServerCommands.DataOption();
        var vmId = new Option<string>("--vm-id") { Description = "The VM id (the --vm-id given to 'tl vmgs create'; a UUID).", Required = true };
        var ca = new Option<string?>("--ca") { Description = "Platform CA folder whose vTPM AK CA issued this VM's AK certificate; default: the server's --ca." };
        var policy = PolicyOption("The stored reference policy ('tl server policy add') its boots must meet; default: the built-in minimum.");
        var json = new Option<bool>("--json") { Description = "Print the registration as JSON." };
        var command = new Command("add",
            "Register a VM (again: replaces its CA and policy). Exit 0 ok, 1 no such policy, 2 bad VM id, CA folder or policy name, 3 database unusable.")
        {
            data, vmId, ca, policy, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            Guid id = VmIdText.Parse(parse.GetValue(vmId)!);
            string? pem = null;
            if (parse.GetValue(ca) is string caDir)
            {
                try
                {
                    pem = TrustAnchors.ReadCaDirectoryPem(caDir);
                }
                catch (TrustAnchorException e)
                {
                    throw new CliException(ExitCode.BadInput, e.Message);
                }
            }

            var vm = new RegisteredVm(id, pem, DateTimeOffset.UtcNow, PolicyName(parse.GetValue(policy)));
            if (!await Registry(parse.GetValue(data)).RegisterAsync(vm, cancellationToken).ConfigureAwait(false))
                throw UnknownPolicy(vm.PolicyName!);
            if (parse.GetValue(json))
                CliJson.Write(View(vm));
            else
                Console.WriteLine($"Registered VM {id} ({(pem is null ? "trusting the server's --ca" : "with its own AK CA")}, policy {View(vm).Policy}).");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateList()
    {
        var data = ServerCommands.DataOption();
        var json = new Option<bool>("--json") { Description = "Print the VMs as JSON." };
        var command = new Command("list", "List the registered VMs. Exit 0 ok, 3 database unusable.") { data, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            IReadOnlyList<RegisteredVm> vms = await Registry(parse.GetValue(data)).ListAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                CliJson.Write(vms.Select(View).ToArray());
            }
            else
            {
                foreach (RegisteredVm vm in vms)
                    Console.WriteLine($"{vm.VmId}  registered {vm.RegisteredAt:u}  {(vm.AkCaCertificatesPem is null ? "server CA" : "own AK CA")}  policy {View(vm).Policy}");
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateRemove()
    {
        var data = ServerCommands.DataOption();
        var vmId = new Option<string>("--vm-id") { Description = "The VM id to remove.", Required = true };
        var command = new Command("remove", "Unregister a VM (its results and baseline stay for audit). Exit 0 removed, 1 not registered, 2 bad VM id, 3 database unusable.")
        {
            data, vmId,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            Guid id = VmIdText.Parse(parse.GetValue(vmId)!);
            if (!await Registry(parse.GetValue(data)).RemoveAsync(id, cancellationToken).ConfigureAwait(false))
                throw new CliException(ExitCode.VerificationFailed, $"VM {id} is not registered.");
            Console.WriteLine($"Removed VM {id}.");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateSetPolicy()
    {
        var data = ServerCommands.DataOption();
        var vmId = new Option<string>("--vm-id") { Description = "The registered VM.", Required = true };
        var policy = PolicyOption("The stored reference policy its boots must meet from the next attestation on.");
        var none = new Option<bool>("--none") { Description = "Apply the built-in minimum policy again." };
        var command = new Command("set-policy",
            "Choose a registered VM's reference policy (--policy NAME or --none). Exit 0 ok, 1 no such VM or policy, 2 bad VM id or policy name, 3 database unusable.")
        {
            data, vmId, policy, none,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            Guid id = VmIdText.Parse(parse.GetValue(vmId)!);
            string? name = PolicyName(parse.GetValue(policy));
            if ((name is null) != parse.GetValue(none))
                throw new CliException(ExitCode.BadInput, "Give exactly one of --policy NAME and --none.");
            switch (await Registry(parse.GetValue(data)).SetPolicyAsync(id, name, cancellationToken).ConfigureAwait(false))
            {
                case PolicyAssignment.Assigned:
                    Console.WriteLine($"VM {id} now uses policy {name ?? ReferencePolicy.Minimum.Name}.");
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


    private static SqliteVmRegistry Registry(string? dataDirectory) => new(ServerCommands.OpenDatabase(dataDirectory));

    private static VmView View(RegisteredVm vm) =>
        new(vm.VmId, vm.RegisteredAt, vm.AkCaCertificatesPem is not null, vm.PolicyName ?? ReferencePolicy.Minimum.Name);

    private sealed record VmView(Guid VmId, DateTimeOffset RegisteredAt, bool OwnAkCa, string Policy);
}
