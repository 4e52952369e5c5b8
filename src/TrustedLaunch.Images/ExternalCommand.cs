using TrustedLaunch.HostSystem;
using TrustedLaunch.HostSystem.Processes;

namespace TrustedLaunch.Images;

/// <summary>Runs the packaging tools the builder relies on (apt-get, dpkg-deb, mtools, qemu-img) and checks their exit.</summary>
internal static class ExternalCommand
{
    /// <summary>Runs <paramref name="program"/> and returns its stdout; a non-zero exit becomes an <see cref="ImageException"/>.</summary>
    public static string Run(string program, string package, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        string path = ExecutableSearch.Find(program) ?? throw new ImageException(ImageFailure.Environment,
            ExecutableSearch.NotInstalledMessage(program, package));
        string[] argumentList = [.. arguments];
        var variables = new Dictionary<string, string>(StringComparer.Ordinal) { ["LC_ALL"] = "C" };
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
                variables[key] = value;
        }

        ProcessResult result;
        try
        {
            result = ExternalProcess.Run(path, argumentList, new ProcessRunOptions { WorkingDirectory = workingDirectory, Environment = variables });
        }
        catch (ProgramStartException e)
        {
            throw new ImageException(ImageFailure.Environment, $"Could not start {program}.", e);
        }

        if (result.ExitCode != 0)
        {
            throw new ImageException(ImageFailure.Environment,
                $"{program} {string.Join(' ', argumentList)} failed (exit {result.ExitCode}): {result.StandardError.Trim()}");
        }

        return result.StandardOutput;
    }
}
