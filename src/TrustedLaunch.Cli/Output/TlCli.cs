using System.CommandLine;
using System.CommandLine.Help;
using TrustedLaunch.Cli.Commands;

namespace TrustedLaunch.Cli;

/// <summary>
/// <c>tl</c> as a library: one command line run against the writers it is given, so the same code serves the
/// executable (<see cref="Console"/>) and in-process callers (tests). Usage errors exit 2; a failure a command lets
/// through is printed once as <c>tl: MESSAGE</c> with the exit code <see cref="CliErrors"/> gives its family.
/// </summary>
public static class TlCli
{
    /// <summary>The root command's description (the first lines of <c>tl --help</c>).</summary>
    public const string Description = "tl: TrustedLaunch, Secure Boot + vTPM + measured boot and attestation for QEMU/KVM VMs.";

    /// <summary>Runs <paramref name="args"/> with stdout and stderr going to the given writers; returns the exit code.</summary>
    public static Task<int> InvokeAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default) =>
        InvokeAsync(CreateRoot(), args, stdout, stderr, cancellationToken);

    /// <summary>Runs <paramref name="args"/> against <paramref name="root"/> (a tree <see cref="CreateRoot"/> made).</summary>
    internal static async Task<int> InvokeAsync(Command root, string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ParseResult parse = Parse(root, args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                await stderr.WriteLineAsync($"tl: {error.Message}").ConfigureAwait(false);
            await stderr.WriteLineAsync("Run 'tl --help' or add --help to a command for usage.").ConfigureAwait(false);
            return (int)ExitCode.BadInput;
        }

        try
        {
            // The default handler would catch a failure first, print a stack trace and exit 1 ("verification failed").
            var invocation = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
            return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (CliErrors.Translate(e) is { } failure)
        {
            await stderr.WriteLineAsync($"tl: {failure.Message}").ConfigureAwait(false);
            return (int)failure.Code;
        }
    }

    /// <summary>Parses <paramref name="args"/> as <c>tl</c> does, without running anything.</summary>
    internal static ParseResult Parse(Command root, string[] args) =>
        // No response files: '@FILE' is an argument (az's spelling of a parameters file, tl deployment --parameters @p.json).
        root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>
    /// The command tree. The root is named <c>tl</c> explicitly (a RootCommand takes the name of the process, which
    /// in-process is the test host) and carries what a RootCommand would: --help and --version.
    /// </summary>
    internal static Command CreateRoot()
    {
        var root = new Command("tl", Description) { new HelpOption(), new VersionOption() };
        foreach (Command command in CommandCatalog.All())
            root.Subcommands.Add(command);
        return root;
    }
}
