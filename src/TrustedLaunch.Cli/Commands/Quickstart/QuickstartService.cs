using System.Globalization;
using System.Net.Http;
using TrustedLaunch.HostSystem.Processes;

namespace TrustedLaunch.Cli.Commands.Quickstart;

/// <summary>
/// The service quickstart leaves running: <c>tl server</c> with its local host, started detached (it outlives
/// quickstart, like the VMs its host runs), its output in <c>TL_HOME/quickstart/server.log</c>, its identity in
/// <c>server.pid</c> so <c>tl quickstart --stop</c> ends it. A service that already answers at the URL is used as it is.
/// </summary>
internal sealed class QuickstartService(string home, Uri url)
{
    public string Directory { get; } = Path.Combine(home, "quickstart");

    public string Log => Path.Combine(Directory, "server.log");

    private string PidFile => Path.Combine(Directory, "server.pid");

    /// <summary>Whether a service answers <c>/healthz</c> at the URL.</summary>
    public async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using HttpResponseMessage response = await http.GetAsync(new Uri(url, "healthz"), cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>Starts <c>tl server</c> detached and waits until it answers; returns false when one already ran.</summary>
    public async Task<bool> EnsureRunningAsync(CancellationToken cancellationToken)
    {
        if (await AnswersAsync(cancellationToken).ConfigureAwait(false))
            return false;
        System.IO.Directory.CreateDirectory(Directory);
        (string program, string[] prefix) = Self();
        string listen = $"{url.Scheme}://{url.Host}:{url.Port.ToString(CultureInfo.InvariantCulture)}";
        DetachedProcess server;
        try
        {
            server = DetachedProcess.Start(program, [.. prefix, "server", "--listen", listen], Log);
        }
        catch (ProgramStartException e)
        {
            throw new CliException(ExitCode.EnvironmentProblem, $"tl server did not start: {e.Message}", e);
        }

        File.WriteAllText(PidFile, FormattableString.Invariant($"{server.Identity.Pid} {server.Identity.StartTicks}\n"));
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await AnswersAsync(cancellationToken).ConfigureAwait(false))
        {
            if (server.HasExited || DateTime.UtcNow > deadline)
                throw new CliException(ExitCode.EnvironmentProblem, $"tl server did not come up at {url}: {server.StandardErrorTail} (see {Log}).");
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Ends the service quickstart started (SIGTERM; its VMs keep running unless deleted first); false when none runs.</summary>
    public async Task<bool> StopAsync()
    {
        if (!File.Exists(PidFile))
            return false;
        string[] fields = (await File.ReadAllTextAsync(PidFile).ConfigureAwait(false)).Split(' ', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        File.Delete(PidFile);
        if (fields.Length != 2 || !int.TryParse(fields[0], CultureInfo.InvariantCulture, out int pid) || !long.TryParse(fields[1], CultureInfo.InvariantCulture, out long start))
            return false;
        using DetachedProcess server = DetachedProcess.Adopt(new ProcessIdentity(pid, start), "tl server", Log);
        if (server.HasExited)
            return false;
        await server.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return true;
    }

    // This very tl: its apphost, or `dotnet tl.dll` when run through the dotnet host.
    private static (string Program, string[] Prefix) Self()
    {
        string process = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? (process, [Path.Combine(AppContext.BaseDirectory, "tl.dll")])
            : (process, []);
    }
}
