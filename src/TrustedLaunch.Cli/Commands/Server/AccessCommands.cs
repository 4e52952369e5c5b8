using System.CommandLine;
using System.Globalization;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.Server.Security;
using TrustedLaunch.Server.Security.Stores;

namespace TrustedLaunch.Cli.Commands.Server;

/// <summary>
/// <c>tl server principal create|list|delete</c>, <c>tl server host-token create</c>, <c>tl server host revoke</c> and <c>tl server audit list</c>:
/// who may call the service (docs/security.md), written straight into its database on the service's machine (WAL:
/// safe while <c>tl server</c> runs; a deletion takes effect at the next request, the store is read at each one).
/// </summary>
internal static class AccessCommands
{
    public static Command Principal()
    {
        var command = new Command("principal", "Service principals: API keys with one role (Reader, Contributor, Owner, AttestationReader) at one scope.");
        command.Subcommands.Add(CreatePrincipal());
        command.Subcommands.Add(ListPrincipals());
        command.Subcommands.Add(DeletePrincipal());
        return command;
    }

    public static Command HostToken()
    {
        var command = new Command("host-token", "Single-use join tokens with which a host enrolls ('tl host --join-token') and gets its client certificate.");
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var host = new Option<string>("--host") { Description = "The host's name: the token enrolls this host only.", Required = true };
        var expires = new Option<int>("--expires-in") { Description = "Seconds the token stays valid.", DefaultValueFactory = _ => 3600 };
        var create = new Command("create", "Create a join token for one host (shown once; only its hash is stored). Exit 0 ok, 2 bad host name or lifetime, 3 database unusable.")
        {
            data, database, host, expires,
        };
        create.SetAction(async (parse, cancellationToken) =>
        {
            string name = parse.GetValue(host)!;
            if (!ArmNames.IsHostName(name))
                throw new CliException(ExitCode.BadInput, $"The host name '{name}' is not valid: 1 to 63 letters, digits, '-' or '.'.");
            int seconds = parse.GetValue(expires);
            if (seconds is < 60 or > 7 * 86_400)
                throw new CliException(ExitCode.BadInput, "--expires-in must be 60..604800 seconds.");
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            string token = await ServicePrincipals.CreateJoinTokenAsync(service.HostCredentials, name, DateTimeOffset.UtcNow, TimeSpan.FromSeconds(seconds),
                cancellationToken).ConfigureAwait(false);
            parse.Out().WriteLine(token);
            parse.Error().WriteLine($"tl server: join token for host {name}, single use, valid {seconds} s: tl host --server https://… --name {name} --join-token <token>");
            return (int)ExitCode.Ok;
        });
        command.Subcommands.Add(create);
        return command;
    }

    public static Command HostCertificates()
    {
        var command = new Command("host", "Enrolled hosts' client certificates.");
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var host = new Option<string>("--host") { Description = "The host whose certificates are revoked.", Required = true };
        var revoke = new Command("revoke",
            "Revoke every client certificate of a host: refused from its next request on, recorded in the audit log. The host enrolls again with a new join token. " +
            "Exit 0 revoked, 1 the host has no certificate in force, 2 bad host name, 3 database unusable.")
        {
            data, database, host,
        };
        revoke.SetAction(async (parse, cancellationToken) =>
        {
            string name = parse.GetValue(host)!;
            if (!ArmNames.IsHostName(name))
                throw new CliException(ExitCode.BadInput, $"The host name '{name}' is not valid: 1 to 63 letters, digits, '-' or '.'.");
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            DateTimeOffset now = DateTimeOffset.UtcNow;
            int revoked = await service.HostCredentials.RevokeHostAsync(name, now, cancellationToken).ConfigureAwait(false);
            string caller = $"{Environment.UserName}@{Environment.MachineName}";
            await service.Audit.AppendAsync(new AuditEvent(0, now, caller, "cli", "CLI", $"tl server host revoke --host {name}",
                revoked > 0 ? 200 : 404, revoked > 0 ? $"Revoked {revoked} host certificate(s)" : "No certificate in force", RemoteAddress: null), cancellationToken).ConfigureAwait(false);
            if (revoked == 0)
                throw new CliException(ExitCode.VerificationFailed, $"Host {name} has no client certificate in force.");
            parse.Out().WriteLine($"Revoked {revoked.ToString(CultureInfo.InvariantCulture)} client certificate(s) of host {name}.");
            return (int)ExitCode.Ok;
        });
        command.Subcommands.Add(revoke);
        return command;
    }

    public static Command Audit()
    {
        var command = new Command("audit", "The audit log: every write and every refused request (who, what, when, from where, outcome).");
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var limit = new Option<int>("--limit") { Description = "How many events, newest first (1..10000).", DefaultValueFactory = _ => 50 };
        var json = CliOptions.Json("Print the events as JSON.");
        var list = new Command("list", "List audit events, newest first. Exit 0 ok, 2 bad limit, 3 database unusable.") { data, database, limit, json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            int take = parse.GetValue(limit);
            if (take is < 1 or > 10_000)
                throw new CliException(ExitCode.BadInput, "--limit must be 1..10000.");
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            IReadOnlyList<AuditEvent> events = await service.Audit.ListAsync(take, null, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                CliJson.Write(events, parse.Out());
                return (int)ExitCode.Ok;
            }

            foreach (AuditEvent e in events)
                parse.Out().WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{e.At:yyyy-MM-ddTHH:mm:ss.fffZ}  {e.Status}  {e.Method} {e.Path}  {e.Caller} from {e.RemoteAddress ?? "-"}  {e.Outcome}"));
            return (int)ExitCode.Ok;
        });
        command.Subcommands.Add(list);
        return command;
    }

    private static Command CreatePrincipal()
    {
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var name = new Option<string>("--name") { Description = "Display name (1-120 characters).", Required = true };
        var role = new Option<string>("--role") { Description = "Reader, Contributor, Owner or AttestationReader.", Required = true };
        role.AcceptOnlyFromAmong(Enum.GetNames<ServiceRole>());
        var scope = new Option<string>("--scope")
        {
            Description = "/subscriptions/{id}[/resourceGroups/{name}], or / for every scope.",
            Required = true,
        };
        var json = CliOptions.Json("Print the principal and its key as JSON.");
        var command = new Command("create",
            "Create a service principal and print its API key (shown once; only a SHA-256 of its secret is stored). Exit 0 ok, 2 bad name, role or scope, 3 database unusable.")
        {
            data, database, name, role, scope, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string displayName = parse.GetValue(name)!;
            if (!ServicePrincipals.IsDisplayName(displayName))
                throw new CliException(ExitCode.BadInput, "--name must be 1 to 120 printable characters.");
            ServiceRole assigned = Enum.Parse<ServiceRole>(parse.GetValue(role)!);
            string target = ServiceScope.Parse(parse.GetValue(scope)!, out string? error) ?? throw new CliException(ExitCode.BadInput, error!);
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            (PrincipalRecord principal, string key) = await ServicePrincipals.CreateAsync(service.Principals, displayName, assigned, target,
                DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                CliJson.Write(new { principal.ObjectId, principal.AppId, principal.DisplayName, Role = principal.Role.ToString(), principal.Scope, Secret = key },
                    parse.Out());
            }
            else
            {
                parse.Out().WriteLine(key);
                parse.Error().WriteLine($"tl server: principal {principal.DisplayName}: appId {principal.AppId}, object id {principal.ObjectId}, " +
                    $"{principal.Role} at {principal.Scope}. The key above is shown once: pass it as --token or TL_TOKEN.");
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command ListPrincipals()
    {
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var json = CliOptions.Json("Print the principals as JSON.");
        var command = new Command("list", "List service principals (never their secrets). Exit 0 ok, 3 database unusable.") { data, database, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            IReadOnlyList<PrincipalRecord> all = await service.Principals.ListAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                CliJson.Write(all.Select(p => new { p.ObjectId, p.AppId, p.DisplayName, Role = p.Role.ToString(), p.Scope, p.CreatedAt }).ToArray(), parse.Out());
                return (int)ExitCode.Ok;
            }

            foreach (PrincipalRecord p in all)
                parse.Out().WriteLine($"{p.AppId}  {p.Role,-17}  {p.Scope}  {p.DisplayName}");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command DeletePrincipal()
    {
        var data = CliOptions.Data();
        var database = CliOptions.ServerDatabase();
        var id = new Argument<string>("id") { Description = "The principal's appId or object id." };
        var command = new Command("delete", "Delete a service principal: its key is refused from the next request on. Exit 0 ok, 1 no such principal, 2 not a GUID, 3 database unusable.")
        {
            data, database, id,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!Guid.TryParse(parse.GetValue(id), out Guid guid))
                throw new CliException(ExitCode.BadInput, $"'{parse.GetValue(id)}' is not a GUID (the principal's appId or object id).");
            using ServiceData service = ServiceData.Open(parse.GetValue(data), parse.GetValue(database));
            if (!await service.Principals.DeleteAsync(guid, cancellationToken).ConfigureAwait(false))
                throw new CliException(ExitCode.VerificationFailed, $"No principal {guid}.");
            parse.Out().WriteLine($"Deleted principal {guid}.");
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
