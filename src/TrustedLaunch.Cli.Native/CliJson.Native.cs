namespace TrustedLaunch.Cli;

/// <summary>The native half: <c>Program</c> sends every <c>--json</c> invocation to the JIT host before a command runs.</summary>
internal static partial class CliJson
{
    public static partial void Write<T>(T value, TextWriter writer) =>
        throw new CliException(ExitCode.EnvironmentProblem, $"--json output is printed by {ServiceHost.FileName}; run this command through tl.");
}
