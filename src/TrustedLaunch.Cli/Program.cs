using TrustedLaunch.Cli;

return await TlCli.InvokeAsync(args, Console.Out, Console.Error).ConfigureAwait(false);
