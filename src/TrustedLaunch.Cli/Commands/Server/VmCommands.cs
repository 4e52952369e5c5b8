using System.CommandLine;
using TrustedLaunch.Runtime;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sqlite;

namespace TrustedLaunch.Cli.Commands.Server;

/// <summary>
/// <c>tl server vm add|list|remove</c>: the VM registry, written straight into the service database (WAL: safe while
/// <c>tl server</c> runs). Registration is explicit: the service attests only registered VM ids, and the verifier
/// still requires the AK certificate to name that id and chain to the VM's CA.
/// </summary>
internal static class VmCommands
{
    public static Command Create()
    {
        var command = new Command("vm", "Register, list and remove the VMs the attestation service attests.");
        command.Subcommands.Add(CreateAdd());
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateRemove());
        return command;
    }

    private static Command CreateAdd()
    {
        var data = ServerCommands.DataOption();
        var vmId = new Option<string>("--vm-id") { Description = "The VM id (the --vm-id given to 'tl vmgs create'; a UUID).", Required = true };
        var ca = new Option<string?>("--ca") { Description = "Platform CA folder whose vTPM AK CA issued this VM's AK certificate; default: the server's --ca." };
        var json = new Option<bool>("--json") { Description = "Print the registration as JSON." };
        var command = new Command("add", "Register a VM (again: replaces its CA). Exit 0 ok, 2 bad VM id or CA folder, 3 database unusable.")
        {
            data, vmId, ca, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            Guid id = ParseVmId(parse.GetValue(vmId)!);
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

            var vm = new RegisteredVm(id, pem, DateTimeOffset.UtcNow);
            await Registry(parse.GetValue(data)).RegisterAsync(vm, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
                CliJson.Write(View(vm));
            else
                Console.WriteLine($"Registered VM {id} ({(pem is null ? "trusting the server's --ca" : "with its own AK CA")}).");
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
                    Console.WriteLine($"{vm.VmId}  registered {vm.RegisteredAt:u}  {(vm.AkCaCertificatesPem is null ? "server CA" : "own AK CA")}");
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
            Guid id = ParseVmId(parse.GetValue(vmId)!);
            if (!await Registry(parse.GetValue(data)).RemoveAsync(id, cancellationToken).ConfigureAwait(false))
                throw new CliException(ExitCode.VerificationFailed, $"VM {id} is not registered.");
            Console.WriteLine($"Removed VM {id}.");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Guid ParseVmId(string text) => Guid.TryParseExact(text, "D", out Guid id)
        ? id
        : throw new CliException(ExitCode.BadInput, $"--vm-id '{text}' is not a UUID (8-4-4-4-12 hex digits).");

    private static SqliteVmRegistry Registry(string? dataDirectory)
    {
        string data = Path.GetFullPath(dataDirectory ?? TlHome.Path);
        try
        {
            return new SqliteVmRegistry(SqliteDatabase.Open(Path.Combine(data, AttestationServiceOptions.DatabaseFileName)));
        }
        catch (StoreException e)
        {
            throw new CliException(ExitCode.EnvironmentProblem, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CliException(ExitCode.EnvironmentProblem, $"Cannot create {data}: {e.Message}");
        }
    }

    private static VmView View(RegisteredVm vm) => new(vm.VmId, vm.RegisteredAt, vm.AkCaCertificatesPem is not null);

    private sealed record VmView(Guid VmId, DateTimeOffset RegisteredAt, bool OwnAkCa);
}
