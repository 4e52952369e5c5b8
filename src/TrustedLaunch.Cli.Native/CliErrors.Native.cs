namespace TrustedLaunch.Cli;

/// <summary>The native half of the failure table: the service verbs' exceptions cannot occur here.</summary>
internal static partial class CliErrors
{
    private static partial CliFailure? Service(Exception e) => null;
}
