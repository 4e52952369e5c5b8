using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Cli.Commands.Host;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.HostAgent;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.SecureBoot.Rollover;
using TrustedLaunch.Server;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Telemetry;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Cli.Commands.Server;

/// <summary>
/// <c>tl server</c>: runs the attestation service and the control plane, and (unless <c>--no-local-host</c>) one host agent
/// in the same process that runs the VMs on this machine, so one machine needs one command. <c>tl server vm …</c> and
/// <c>tl server policy …</c> manage what it attests.
/// </summary>
internal static class ServerCommands
{
    public static Command Create()
    {
        var data = CliOptions.Data();
        var listen = new Option<string>("--listen")
        {
            Description = $"URL to listen on (default {AttestationServiceOptions.DefaultListen}: loopback only; port 0 picks a free port); https:// with --tls-cert/--tls-key or --tls-platform-ca. A non-loopback address needs TLS and --auth.",
            DefaultValueFactory = _ => AttestationServiceOptions.DefaultListen,
        };
        var ca = CliOptions.OptionalCa("Platform CA folder ('tl ca init'): trusted for VMs registered without their own --ca, and the CA the local host certifies vTPMs with (default DATA/pki; created once when a local host runs).");
        var tokenAlg = new Option<string>("--token-alg") { Description = "Token signature algorithm.", DefaultValueFactory = _ => "ES256" };
        tokenAlg.AcceptOnlyFromAmong("ES256", "RS256");
        var issuer = new Option<string?>("--issuer") { Description = "Token issuer (iss) and OpenID issuer; default: the URL the service listens on." };
        var nonceLifetime = new Option<int>("--nonce-lifetime") { Description = "Seconds a challenge nonce stays valid.", DefaultValueFactory = _ => 300 };
        var noLocalHost = new Option<bool>("--no-local-host") { Description = "Do not run a host agent in this process (VMs then run on hosts that connect with 'tl host')." };
        var hostName = new Option<string?>("--host-name") { Description = "The local host's name (default: this machine's name)." };
        var liveness = new Option<int>("--host-liveness") { Description = "Seconds after which a host that has not polled is lost (its VMs show PowerState/unknown).", DefaultValueFactory = _ => 90 };
        var dbxUpdate = new Option<string?>("--dbx-update") { Description = "The newest signed dbx update (e.g. Microsoft's DBXUpdate.bin): posture's 'dbx should be current' compares each VM's attested dbx with it." };
        var database = new Option<string?>("--database")
        {
            Description = "The database: a PostgreSQL connection string ('Host=...;Database=...'), which any number of replicas may share " +
                "(docs/scale-out.md), or a SQLite file; default DATA/tl.db.",
        };
        var logFormat = CliOptions.LogFormat();
        var otlp = CliOptions.OtlpEndpoint();
        var otlpProtocol = CliOptions.OtlpProtocol();
        var noMetrics = new Option<bool>("--no-metrics") { Description = "Do not serve Prometheus metrics at /metrics." };
        ServerSecurityOptions security = ServerSecurityOptions.Create();
        var command = new Command("server", ServiceVerbs.Description(ServiceVerb.Server))
        {
            data, listen, ca, tokenAlg, issuer, nonceLifetime, noLocalHost, hostName, liveness, dbxUpdate, database, logFormat, otlp, otlpProtocol, noMetrics,
        };
        security.AddTo(command);
        command.Subcommands.Add(VmCommands.Create());
        command.Subcommands.Add(PolicyCommands.Create());
        command.Subcommands.Add(AccessCommands.Principal());
        command.Subcommands.Add(AccessCommands.HostToken());
        command.Subcommands.Add(AccessCommands.HostCertificates());
        command.Subcommands.Add(AccessCommands.Audit());
        command.SetAction(async (parse, cancellationToken) =>
        {
            int lifetime = parse.GetValue(nonceLifetime);
            if (lifetime is < 1 or > 86_400)
                throw new CliException(ExitCode.BadInput, "--nonce-lifetime must be 1..86400 seconds.");
            if (parse.GetValue(liveness) is < 3 or > 86_400)
                throw new CliException(ExitCode.BadInput, "--host-liveness must be 3..86400 seconds.");
            string home = Path.GetFullPath(parse.GetValue(data) ?? TlHome.Path);
            bool localHost = !parse.GetValue(noLocalHost);
            // The platform CA: --ca, else DATA/pki — made once when a local host will certify vTPMs with it, used when it exists
            // (VMs created through the control plane are registered trusting the service's CA).
            string pki = Path.Combine(home, "pki");
            string? caDirectory = parse.GetValue(ca) is string caDir ? Path.GetFullPath(caDir)
                : localHost ? EnsurePlatformCa(pki, parse.Error())
                : File.Exists(PlatformCaLayout.CertificatePath(pki, PlatformCaLayout.RootName)) ? pki : null;
            var options = new AttestationServiceOptions
            {
                DataDirectory = home,
                Database = parse.GetValue(database),
                Listen = parse.GetValue(listen)!,
                CaDirectory = caDirectory,
                TokenAlgorithm = parse.GetValue(tokenAlg)!,
                Issuer = parse.GetValue(issuer),
                NonceLifetime = TimeSpan.FromSeconds(lifetime),
                ImageCache = Path.Combine(home, "images"),
                ControlPlane = new ControlPlaneOptions { HostLivenessWindow = TimeSpan.FromSeconds(parse.GetValue(liveness)) },
                Posture = new PostureOptions { NewestDbx = parse.GetValue(dbxUpdate) is string dbx ? ReadDbxRelease(dbx) : null },
                Telemetry = new TelemetryOptions
                {
                    LogFormat = CliOptions.ParseLogFormat(parse.GetValue(logFormat)),
                    OtlpEndpoint = CliOptions.ParseOtlpEndpoint(parse.GetValue(otlp)),
                    OtlpProtocol = CliOptions.ParseOtlpProtocol(parse.GetValue(otlpProtocol)),
                    MetricsPath = parse.GetValue(noMetrics) ? null : "/metrics",
                },
                Security = security.Read(parse, localHost ? parse.GetValue(hostName) ?? HostCommand.DefaultName() : null),
            };
            WebApplication app = Build(options);
            await using (app.ConfigureAwait(false))
            {
                try
                {
                    await app.StartAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e) when (e.InnerException is SocketException || e.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
                {
                    throw new CliException(ExitCode.EnvironmentProblem, $"Cannot listen on {options.Listen}: {e.Message}");
                }

                IReadOnlyList<string> bound = AttestationServiceHost.BoundAddresses(app.Services);
                parse.Error().WriteLine($"tl server: listening on {string.Join(", ", bound)}; Ctrl-C to stop.");
                using var stopHost = new CancellationTokenSource();
                Task host = Task.CompletedTask;
                if (localHost)
                {
                    HostAgentOptions hostOptions = HostCommand.Options(LocalUrl(bound[0]), parse.GetValue(hostName), home, caDirectory!)
                        with { Credential = ServerSecurityOptions.LocalHostCredential(options) };
                    var agent = new HostAgent.HostAgent(hostOptions, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("TrustedLaunch.HostAgent"));
                    host = agent.RunAsync(stopHost.Token);
                }

                // The local host stops with the service, not after it: its requests in flight would hold the shutdown.
                using CancellationTokenRegistration stopping = app.Lifetime.ApplicationStopping.Register(stopHost.Cancel);

                await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
                await stopHost.CancelAsync().ConfigureAwait(false);
                await host.ConfigureAwait(false); // the agent stops; its VMs keep running and the next start adopts them
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }

    /// <summary>The platform CA the local host certifies vTPMs with: the folder's, created once when absent.</summary>
    private static string EnsurePlatformCa(string directory, TextWriter progress)
    {
        try
        {
            if (!File.Exists(PlatformCaLayout.CertificatePath(directory, PlatformCaLayout.RootName)))
            {
                FilePlatformCa.Create(directory, "TrustedLaunch");
                progress.WriteLine($"tl server: created the platform CA in {directory} (root, vTPM EK CA, vTPM AK CA)");
            }

            return directory;
        }
        catch (PlatformCaException e)
        {
            throw new CliException(ExitCode.BadInput, $"platform PKI {directory}: {e.Message}", e);
        }
    }

    // The local host calls the service on loopback (the host contract answers local callers only), whatever it listens on.
    private static Uri LocalUrl(string bound)
    {
        var uri = new Uri(bound);
        string host = uri.Host is "0.0.0.0" or "*" or "+" ? "127.0.0.1" : uri.Host is "[::]" or "::" ? "[::1]" : uri.Host;
        return new Uri($"{uri.Scheme}://{host}:{uri.Port}/");
    }

    private static DbxRelease ReadDbxRelease(string path)
    {
        try
        {
            DbxUpdateFile update = DbxUpdateFile.Read(File.ReadAllBytes(path));
            EfiTime t = update.TimeStamp;
            return new DbxRelease(string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(path)} ({t.Year:D4}-{t.Month:D2}-{t.Day:D2})"), update.EntryCount);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or UefiFormatException)
        {
            throw new CliException(ExitCode.BadInput, $"--dbx-update {path}: {e.Message}", e);
        }
    }

    private static WebApplication Build(AttestationServiceOptions options)
    {
        try
        {
            return AttestationServiceHost.Build(options);
        }
        catch (ArgumentException e)
        {
            throw new CliException(ExitCode.BadInput, e.Message); // an option the service refuses (listen URL, issuer, TLS, bind without auth)
        }
        catch (TrustedLaunch.Server.Security.PlatformIssuerException e)
        {
            throw new CliException(ExitCode.BadInput, e.Message);
        }
    }
}
