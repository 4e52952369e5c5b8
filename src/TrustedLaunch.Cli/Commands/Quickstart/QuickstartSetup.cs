using TrustedLaunch.Cli.Commands.Image;
using TrustedLaunch.HostSystem;
using TrustedLaunch.HostSystem.Processes;
using TrustedLaunch.Images;
using TrustedLaunch.Images.Agent;

namespace TrustedLaunch.Cli.Commands.Quickstart;

/// <summary>
/// The steps before the platform runs, each reusing what is already there: OS packages (scripts/install-deps.sh, which
/// installs only what dpkg reports missing) and the Debian image with the guest agent (cached by package versions and
/// agent source hash). Their raw output goes to the setup log, not to the terminal.
/// </summary>
internal static class QuickstartSetup
{
    public static void EnsurePackages(TextWriter log)
    {
        string? source = GuestAgentPublisher.FindSourceRoot();
        string? script = source is null ? null : Path.Combine(source, "scripts", "install-deps.sh");
        if (script is not null && File.Exists(script))
        {
            int code = RunLogged("bash", [script], log);
            if (code != 0)
                throw new CliException(ExitCode.EnvironmentProblem, $"scripts/install-deps.sh failed with exit code {code}; install the packages it names and retry.");
            return;
        }

        // An installed tl without its source tree: check the programs the VM needs rather than guess package names.
        foreach ((string program, string package) in new[] { ("qemu-system-x86_64", "qemu-system-x86"), ("qemu-img", "qemu-utils") })
        {
            if (ExecutableSearch.Find(program) is null)
                throw new CliException(ExitCode.EnvironmentProblem, $"{program} is not installed (apt install {package}).");
        }
    }

    /// <summary>The platform's Debian 12 image with the guest agent, built or taken from TL_HOME/images, and offered in the image catalog.</summary>
    public static DebianImage EnsureImage(string home, TextWriter log)
    {
        var report = new SynchronousProgress(line => log.WriteLine($"image: {line}"));
        string? source = GuestAgentPublisher.FindSourceRoot();
        string? agent = source is not null
            ? GuestAgentPublisher.Publish(source, progress: report)
            : ExecutableSearch.Find(GuestAgentPublisher.BinaryName);
        if (agent is null)
            throw new CliException(ExitCode.EnvironmentProblem, "No tl-guest-agent (not in a source tree, not on PATH): the VM could not be attested.");
        DebianImage image = DebianImageBuilder.Build(new DebianImageRequest
        {
            GuestAgent = agent,
            ImageCache = Path.Combine(home, "images"),
            PackageCache = Path.Combine(home, "cache", "debs"),
        }, report);
        ImageRegisterCommand.OfferBuiltImage(image, home, report); // a running service sees it now; a new one at its start
        return image;
    }

    private static int RunLogged(string program, IReadOnlyList<string> arguments, TextWriter log)
    {
        string path = ExecutableSearch.Find(program) ?? throw new CliException(ExitCode.EnvironmentProblem, $"{program} is not installed.");
        try
        {
            ProcessResult result = ExternalProcess.Run(path, arguments, new ProcessRunOptions { StandardOutputCopy = log });
            log.Write(result.StandardError);
            return result.ExitCode;
        }
        catch (ProgramStartException e)
        {
            throw new CliException(ExitCode.EnvironmentProblem, $"{program} did not start.", e);
        }
    }
}
