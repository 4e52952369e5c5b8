using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Arm;

/// <summary>
/// The options every command that talks to the control plane shares, as <c>az</c> has them: <c>--server</c> (else
/// <c>TL_SERVER</c>, else <c>http://127.0.0.1:5380</c>), <c>--subscription</c> (else the default one), <c>-o table|json</c>.
/// </summary>
internal static class ArmOptions
{
    public const string ServerVariable = "TL_SERVER";
    public const string DefaultServer = "http://127.0.0.1:5380";

    public static Option<string?> Server() => new("--server")
    {
        Description = $"The control plane (tl server) URL; default ${ServerVariable}, else {DefaultServer}.",
    };

    /// <summary>The variable a bearer token is read from when <c>--token</c> is not given.</summary>
    public const string TokenVariable = "TL_TOKEN";

    public static Option<string?> Token() => new("--token")
    {
        Description = $"Bearer token for a service with authentication on (an API key from 'tl server principal create', or a JWT); default ${TokenVariable}.",
    };

    /// <summary>The token: the option, else <c>TL_TOKEN</c>, else none.</summary>
    public static string? BearerToken(string? option) =>
        option is { Length: > 0 } ? option : Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;

    public static Option<string?> Subscription() => new("--subscription")
    {
        Description = "Subscription id; default: the one the service created at its first start.",
    };

    /// <summary><c>-o/--output json|table</c> (json, as az).</summary>
    public static Option<string> Output()
    {
        var output = new Option<string>("--output", "-o") { Description = "Output format: json or table.", DefaultValueFactory = _ => "json" };
        output.AcceptOnlyFromAmong("json", "table");
        return output;
    }

    public static Option<string> ResourceGroup() => new("--resource-group", "-g") { Description = "Name of the resource group.", Required = true };

    public static Option<string> Name(string what) => new("--name", "-n") { Description = $"Name of the {what}.", Required = true };

    public static Option<bool> NoWait() => new("--no-wait") { Description = "Do not wait for the long-running operation to finish." };

    /// <summary>The server URL: the option, else <c>TL_SERVER</c>, else the default.</summary>
    public static Uri ServerUri(string? option)
    {
        string text = option ?? (Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultServer);
        if (!Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https"))
            throw new CliException(ExitCode.BadInput, $"The server '{text}' is not an http:// URL (--server or {ServerVariable}).");
        return uri;
    }
}
