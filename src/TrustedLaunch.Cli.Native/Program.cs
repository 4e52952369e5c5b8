using System.CommandLine;
using TrustedLaunch.Cli;

// A tool verb runs here. Anything else is the JIT host's, with the same argv, streams and exit code: a service verb,
// the root's --help and --version, no verb or an unknown one, and --json output (reflection-based System.Text.Json).
Command root = TlCli.CreateRoot();
if (args.Length == 0 || !root.Subcommands.Any(verb => verb.Name == args[0]) || AsksForJson(TlCli.Parse(root, args)))
    return ServiceHost.Exec(args, Console.Error);
return await TlCli.InvokeAsync(root, args, Console.Out, Console.Error).ConfigureAwait(false);

static bool AsksForJson(ParseResult parse) =>
    parse.Errors.Count == 0 && parse.CommandResult.Command.Options.OfType<Option<bool>>().FirstOrDefault(o => o.Name == "--json") is { } json && parse.GetValue(json);
