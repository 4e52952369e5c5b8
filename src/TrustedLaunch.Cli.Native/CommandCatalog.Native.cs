using System.CommandLine;

namespace TrustedLaunch.Cli.Commands;

/// <summary>The native half of the catalog: no service verb is built here; <c>Program</c> forwards them to the JIT host.</summary>
internal static partial class CommandCatalog
{
    private static partial IEnumerable<Command> Service(ServiceVerb verb) => [];
}
