using TrustedLaunch.Cli;
using TrustedLaunch.Cli.Commands;

// Everything runs here but the service verbs (ServiceVerb), which are the JIT host's, with the same argv, streams and
// exit code. The tool verbs with their --json (source-generated contracts, CliJson), the root's --help and --version,
// and the usage errors of no verb or an unknown one print here what the JIT host prints (NativeTlTests).
if (args.Length > 0 && ServiceVerbs.IsName(args[0]))
    return ServiceHost.Exec(args, Console.Error);
return await TlCli.InvokeAsync(TlCli.CreateRoot(), args, Console.Out, Console.Error).ConfigureAwait(false);
