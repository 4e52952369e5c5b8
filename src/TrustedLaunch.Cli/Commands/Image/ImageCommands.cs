using System.CommandLine;

namespace TrustedLaunch.Cli.Commands.Image;

internal static class ImageCommands
{
    public static Command Create()
    {
        var command = new Command("image", "Build and inspect guest disk images.");
        return command;
    }
}
