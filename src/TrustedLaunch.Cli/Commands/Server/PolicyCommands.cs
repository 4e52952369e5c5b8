using System.CommandLine;
using System.Text;
using TrustedLaunch.Attestation;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Cli.Commands.Server;

/// <summary>
/// <c>tl server policy add|list|show|remove</c>: the service's named reference policies, written straight into its
/// database like <c>tl server vm</c> (a running service applies a replaced policy at the next attestation). A VM uses
/// one through <c>tl server vm add|set-policy --policy NAME</c>.
/// </summary>
internal static class PolicyCommands
{
    public static Command Create()
    {
        var command = new Command("policy", "Store, list, show and remove the named reference policies VMs can be held to.");
        command.Subcommands.Add(CreateAdd());
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateShow());
        command.Subcommands.Add(CreateRemove());
        return command;
    }

    private static Command CreateAdd()
    {
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var file = new Option<string>("--file") { Description = "The policy JSON (docs/attestation.md); its \"name\" names it.", Required = true };
        var command = new Command("add", "Store a reference policy (again: replaces it). Exit 0 ok, 2 unreadable or invalid policy, 3 database unusable.")
        {
            data, database, file,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string path = parse.GetValue(file)!;
            ReferencePolicy policy;
            try
            {
                policy = PolicyDocument.Parse(File.ReadAllBytes(path));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                throw new CliException(ExitCode.BadInput, $"--file {path}: {e.Message}", e);
            }

            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            var stored = new StoredPolicy(policy.Name, Encoding.UTF8.GetString(policy.ToJson()), DateTimeOffset.UtcNow);
            PolicyWrite write = await service.Policies.SaveAsync(stored, cancellationToken).ConfigureAwait(false);
            parse.Out().WriteLine($"{(write == PolicyWrite.Created ? "Stored" : "Replaced")} policy {policy.Name}.");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateList()
    {
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var json = CliOptions.Json("Print the policies (with the VMs using each) as JSON.");
        var command = new Command("list", "List the stored reference policies. Exit 0 ok, 3 database unusable.") { data, database, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            IReadOnlyList<StoredPolicy> policies = await service.Policies.ListAsync(cancellationToken).ConfigureAwait(false);
            IReadOnlyList<RegisteredVm> vms = await service.Vms.ListAsync(cancellationToken).ConfigureAwait(false);
            PolicyView[] views = policies.Select(p => PolicyView.From(p, vms)).ToArray();
            if (parse.GetValue(json))
            {
                CliJson.Write(views, parse.Out());
            }
            else
            {
                foreach (PolicyView view in views)
                    parse.Out().WriteLine($"{view.Name}  updated {view.UpdatedAt:u}  used by {view.Vms.Count} VM(s)");
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateShow()
    {
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var name = new Argument<string>("NAME") { Description = "The policy's name." };
        var json = CliOptions.Json("Print the policy and the VMs using it as JSON.");
        var command = new Command("show", "Show a stored reference policy. Exit 0 ok, 1 no such policy, 3 database unusable.") { name, data, database, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string policyName = parse.GetValue(name)!;
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            StoredPolicy stored = await service.Policies.GetAsync(policyName, cancellationToken).ConfigureAwait(false)
                ?? throw new CliException(ExitCode.VerificationFailed, $"No policy is named '{policyName}'.");
            PolicyView view = PolicyView.From(stored, await service.Vms.ListAsync(cancellationToken).ConfigureAwait(false));
            if (parse.GetValue(json))
            {
                CliJson.Write(view, parse.Out());
            }
            else
            {
                parse.Out().WriteLine($"{view.Name}  updated {view.UpdatedAt:u}  used by {(view.Vms.Count == 0 ? "no VM" : string.Join(", ", view.Vms))}");
                parse.Out().WriteLine(stored.PolicyJson);
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateRemove()
    {
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var name = new Argument<string>("NAME") { Description = "The policy's name." };
        var command = new Command("remove",
            "Remove a stored reference policy no VM uses. Exit 0 removed, 1 no such policy, 2 a VM still uses it, 3 database unusable.")
        {
            name, data, database,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string policyName = parse.GetValue(name)!;
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            switch (await service.Policies.RemoveAsync(policyName, cancellationToken).ConfigureAwait(false))
            {
                case PolicyRemoval.Removed:
                    parse.Out().WriteLine($"Removed policy {policyName}.");
                    return (int)ExitCode.Ok;
                case PolicyRemoval.NotFound:
                    throw new CliException(ExitCode.VerificationFailed, $"No policy is named '{policyName}'.");
                default:
                    Guid[] users = PolicyView.VmsUsing(policyName, await service.Vms.ListAsync(cancellationToken).ConfigureAwait(false));
                    throw new CliException(ExitCode.BadInput,
                        $"Policy '{policyName}' is used by VM {string.Join(", ", users)}; tl server vm set-policy --vm-id ID --policy OTHER|--none first.");
            }
        });
        return command;
    }
}
