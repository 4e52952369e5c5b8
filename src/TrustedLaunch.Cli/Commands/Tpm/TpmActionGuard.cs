namespace TrustedLaunch.Cli.Commands.Tpm;

/// <summary>
/// Maps <see cref="CliException"/> to its exit code inside the action. System.CommandLine's default exception
/// handler catches exceptions thrown by actions before <see cref="CommandRunner"/> sees them (it prints
/// "Unhandled exception" and returns 1), which would turn "bad input" (2) into "verification failed" (1).
/// </summary>
internal static class TpmActionGuard
{
    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"tl: {e.Message}");
            return (int)e.Code;
        }
        catch (IOException e)
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
