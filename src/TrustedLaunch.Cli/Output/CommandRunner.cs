using System.CommandLine;

namespace TrustedLaunch.Cli;

/// <summary>Parses, reports usage errors with exit code 2, and maps <see cref="CliException"/> to its exit code.</summary>
internal static class CommandRunner
{
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                await Console.Error.WriteLineAsync($"tl: {error.Message}").ConfigureAwait(false);
            await Console.Error.WriteLineAsync("Run 'tl --help' or add --help to a command for usage.").ConfigureAwait(false);
            return (int)ExitCode.BadInput;
        }

        try
        {
            // The default handler would catch CliException first, print a stack trace and exit 1 ("verification failed").
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            await Console.Error.WriteLineAsync($"tl: {e.Message}").ConfigureAwait(false);
            return (int)e.Code;
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"tl: {e.Message}").ConfigureAwait(false);
            return (int)ExitCode.BadInput;
        }
        catch (UnauthorizedAccessException e)
        {
            await Console.Error.WriteLineAsync($"tl: {e.Message}").ConfigureAwait(false);
            return (int)ExitCode.EnvironmentProblem;
        }
    }
}
