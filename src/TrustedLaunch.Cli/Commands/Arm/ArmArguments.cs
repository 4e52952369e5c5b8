using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Arm;

/// <summary>The <c>--server</c>, <c>--subscription</c>, <c>-o</c> and <c>--token</c> options of one control-plane command, added to it together.</summary>
internal sealed record ArmArguments(Option<string?> Server, Option<string?> Subscription, Option<string> Output, Option<string?> Token)
{
    public static ArmArguments AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var arguments = new ArmArguments(ArmOptions.Server(), ArmOptions.Subscription(), ArmOptions.Output(), ArmOptions.Token());
        command.Options.Add(arguments.Server);
        command.Options.Add(arguments.Subscription);
        command.Options.Add(arguments.Output);
        command.Options.Add(arguments.Token);
        return arguments;
    }

    public ArmApi Connect(ParseResult parse) => new(ArmOptions.ServerUri(parse.GetValue(Server)), parse.GetValue(Subscription), parse.GetValue(Token));

    public string Format(ParseResult parse) => parse.GetValue(Output)!;
}
