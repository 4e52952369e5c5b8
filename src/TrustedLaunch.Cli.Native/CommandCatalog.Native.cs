using System.CommandLine;

namespace TrustedLaunch.Cli.Commands;

/// <summary>
/// The native half of the catalog: a service verb is its name and description only, so <c>tl --help</c> lists every
/// verb (the same bytes as the JIT host); <c>Program</c> forwards a command line that starts with one to the JIT host.
/// </summary>
internal static partial class CommandCatalog
{
    private static partial IEnumerable<Command> Service(ServiceVerb verb) => [new Command(ServiceVerbs.Name(verb), ServiceVerbs.Description(verb))];
}
