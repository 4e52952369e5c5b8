namespace TrustedLaunch.Cli.Commands.Uefi;

/// <summary>
/// Runs a command body and maps <see cref="CliException"/> (and missing files) to a <c>tl:</c> message and its exit code.
/// Needed because System.CommandLine's default invocation handler catches exceptions thrown inside an action before
/// CommandRunner sees them, and would print a stack trace and exit with 1 (which means "verification failed").
/// </summary>
internal static class GuardedAction
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"tl: {e.Message}");
            return (int)e.Code;
        }
        catch (IOException e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine($"tl: {e.Message}");
            return (int)ExitCode.BadInput;
        }
        catch (UnauthorizedAccessException e)
        {
            Console.Error.WriteLine($"tl: {e.Message}");
            return (int)ExitCode.EnvironmentProblem;
        }
    }
}
