using System.Diagnostics;
using TrustedLaunch.Runtime.Processes;

namespace TrustedLaunch.Images;

/// <summary>Runs the packaging tools the builder relies on (apt-get, dpkg-deb, mtools, qemu-img) and checks their exit.</summary>
internal static class ExternalCommand
{
    /// <summary>Runs <paramref name="program"/> and returns its stdout; a non-zero exit becomes an <see cref="ImageException"/>.</summary>
    public static string Run(string program, string package, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        string path = ExecutableSearch.Find(program) ?? throw new ImageException(ImageFailure.Environment,
            $"'{program}' is not installed; install the '{package}' package (scripts/install-deps.sh).");
        var psi = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string argument in arguments)
            psi.ArgumentList.Add(argument);
        psi.Environment["LC_ALL"] = "C";
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
                psi.Environment[key] = value;
        }

        using Process process = Process.Start(psi) ?? throw new ImageException(ImageFailure.Environment, $"Could not start {program}.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new ImageException(ImageFailure.Environment,
                $"{program} {string.Join(' ', psi.ArgumentList)} failed (exit {process.ExitCode}): {stderr.Result.Trim()}");
        }

        return stdout.Result;
    }
}
