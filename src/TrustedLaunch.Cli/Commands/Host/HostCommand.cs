using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Cli.Commands.Arm;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.HostAgent;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Runtime.Acceleration;
using TrustedLaunch.Server.Telemetry;

namespace TrustedLaunch.Cli.Commands.Host;

/// <summary>
/// <c>tl host --server URL</c>: the host agent (docs/host.md). Runs until Ctrl-C or SIGTERM; its VMs keep running after it
/// stops, and the next <c>tl host</c> of this machine adopts them.
/// </summary>
internal static class HostCommand
{
    public static Command Create()
    {
        var server = new Option<string?>("--server") { Description = $"The control plane (tl server); default ${ArmOptions.ServerVariable}, else {ArmOptions.DefaultServer}." };
        var name = new Option<string?>("--name") { Description = "The host's name in the control plane (default: this machine's name)." };
        var data = new Option<string?>("--data") { Description = "This host's TL_HOME: VM folders (vms/), the host key (host/); default TL_HOME." };
        var ca = CliOptions.OptionalCa("Platform CA folder ('tl ca init') that certifies the vTPMs this host manufactures; default TL_HOME/pki.");
        var vcpus = new Option<int?>("--vcpus") { Description = "vCPUs offered to VMs (default: the machine's)." };
        var memory = new Option<int?>("--memory") { Description = "Memory offered to VMs, MiB (default: the machine's)." };
        var joinToken = new Option<string?>("--join-token")
        {
            Description = "Enroll with the control plane first: a single-use token from 'tl server host-token create'; the client certificate it yields (host/tls-client.crt) is used from then on (mTLS).",
        };
        var accelerator = new Option<string?>("--accelerator") { Description = "kvm or tcg (default: probe /dev/kvm)." };
        accelerator.AcceptOnlyFromAmong("kvm", "tcg");
        var logFormat = CliOptions.LogFormat();
        var otlp = CliOptions.OtlpEndpoint();
        var otlpProtocol = CliOptions.OtlpProtocol();
        var metricsListen = new Option<string?>("--metrics-listen")
        {
            Description = "Serve this agent's metrics for Prometheus at URL/metrics (e.g. http://127.0.0.1:9465); default: none.",
        };
        var libvirtDomain = new Option<string[]>("--libvirt-domain")
        {
            Description = "Also attest this libvirt domain (name or UUID; repeatable), which libvirt runs: its guest agent's <channel type='unix'> named " +
                "org.trustedlaunch.agent.0 is read from 'virsh dumpxml', and the control plane shows it as a VM resource (power operations refused).",
            AllowMultipleArgumentsPerToken = false,
        };
        var libvirtUri = new Option<string?>("--libvirt-uri") { Description = "The libvirt connection of --libvirt-domain (default qemu:///system; qemu:///session for a user's daemon)." };
        var libvirtGroup = new Option<string?>("--libvirt-resource-group") { Description = "The resource group (it must exist) the --libvirt-domain VM resources go in." };
        var command = new Command("host", ServiceVerbs.Description(ServiceVerb.Host))
        {
            server, name, data, ca, vcpus, memory, accelerator, logFormat, otlp, otlpProtocol, metricsListen, joinToken, libvirtDomain, libvirtUri, libvirtGroup,
        };
        command.Subcommands.Add(HostMoveCommand.Create());
        command.SetAction(async (parse, cancellationToken) =>
        {
            Uri? metricsUri = MetricsListen(parse.GetValue(metricsListen));
            string home = Path.GetFullPath(parse.GetValue(data) ?? TlHome.Path);
            HostAgentOptions options = Options(ArmOptions.ServerUri(parse.GetValue(server)), parse.GetValue(name), home,
                parse.GetValue(ca) ?? Path.Combine(home, "pki"), parse.GetValue(vcpus), parse.GetValue(memory), parse.GetValue(accelerator));
            if (!Directory.Exists(options.CaDirectory))
                throw new CliException(ExitCode.BadInput, $"No platform CA in {options.CaDirectory}; create one with 'tl ca init {options.CaDirectory}' or give --ca.");
            options = Libvirt(options, parse.GetValue(libvirtDomain) ?? [], parse.GetValue(libvirtUri), parse.GetValue(libvirtGroup));
            options = options with { Credential = await CredentialAsync(options, parse.GetValue(joinToken), parse.Error(), cancellationToken).ConfigureAwait(false) };
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                try
                {
                    stop.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // System.CommandLine cancels on SIGTERM too: the agent may have stopped and its source been disposed
                    // while this handler was on its way (it runs on a thread of its own).
                }
            });
            using HostTelemetry telemetry = HostTelemetry.Start(CliOptions.ParseOtlpEndpoint(parse.GetValue(otlp)),
                CliOptions.ParseOtlpProtocol(parse.GetValue(otlpProtocol)));
            await using HostMetricsEndpoint? metrics = metricsUri is null ? null : await StartMetricsAsync(metricsUri, parse.Error(), cancellationToken).ConfigureAwait(false);
            using ILoggerFactory logs = Logs(parse, CliOptions.ParseLogFormat(parse.GetValue(logFormat)));
            var agent = new HostAgent.HostAgent(options, logs.CreateLogger("TrustedLaunch.HostAgent"));
            parse.Error().WriteLine($"tl host: {options.HostName} → {options.Server} (VMs in {options.VmsDirectory}); Ctrl-C stops the agent, not the VMs.");
            await agent.RunAsync(stop.Token).ConfigureAwait(false);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Uri? MetricsListen(string? value)
    {
        if (value is null)
            return null;
        if (!Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
            throw new CliException(ExitCode.BadInput, $"--metrics-listen must be http://ADDRESS:PORT (the metrics are at /metrics); '{value}' is not.");
        return uri;
    }

    private static async Task<HostMetricsEndpoint> StartMetricsAsync(Uri listen, TextWriter progress, CancellationToken cancellationToken)
    {
        try
        {
            HostMetricsEndpoint endpoint = await HostMetricsEndpoint.StartAsync(listen, cancellationToken).ConfigureAwait(false);
            progress.WriteLine($"tl host: metrics at {new Uri(endpoint.Address, HostMetricsEndpoint.Path)}");
            return endpoint;
        }
        catch (IOException e)
        {
            throw new CliException(ExitCode.EnvironmentProblem, $"Cannot listen on {listen} for metrics: {e.Message}", e);
        }
    }

    // The host's client certificate: enrolled now with a join token, else the one enrolled before, else none (a loopback service without auth).
    internal static async Task<HostCredential?> CredentialAsync(HostAgentOptions options, string? joinToken, TextWriter progress, CancellationToken cancellationToken)
    {
        string rootPath = PlatformCaLayout.CertificatePath(options.CaDirectory, PlatformCaLayout.RootName);
        X509Certificate2? root = File.Exists(rootPath) ? X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(rootPath, cancellationToken).ConfigureAwait(false)) : null;
        X509Certificate2? certificate;
        if (joinToken is not null)
        {
            if (options.Server.Scheme != Uri.UriSchemeHttps)
                throw new CliException(ExitCode.BadInput, $"--join-token needs an https:// server (the certificate it yields is presented over TLS); {options.Server} is not.");
            try
            {
                certificate = await HostEnrollment.EnrollAsync(options.Server, options.HostName, joinToken, options.HostDirectory, root, cancellationToken).ConfigureAwait(false);
            }
            catch (ControlPlaneCallException e)
            {
                throw new CliException(e.StatusCode is null ? ExitCode.EnvironmentProblem : ExitCode.VerificationFailed, e.Message, e);
            }

            progress.WriteLine($"tl host: enrolled as {options.HostName}; client certificate {Path.Combine(options.HostDirectory, HostEnrollment.CertificateFileName)} (serial {certificate.SerialNumber}, until {certificate.NotAfter:u})");
        }
        else
        {
            // Renewal is the running agent's (HostCertificateRenewal): at its start and then hourly.
            certificate = HostEnrollment.Load(options.HostDirectory);
        }

        return certificate is null && root is null ? null : new HostCredential { ClientCertificate = certificate, TrustedRoot = root };
    }

    private static HostAgentOptions Libvirt(HostAgentOptions options, string[] domains, string? uri, string? group)
    {
        if (domains.Length == 0)
        {
            if (uri is not null || group is not null)
                throw new CliException(ExitCode.BadInput, "--libvirt-uri and --libvirt-resource-group go with --libvirt-domain.");
            return options;
        }

        if (group is null)
            throw new CliException(ExitCode.BadInput, "--libvirt-domain needs --libvirt-resource-group: the resource group its VM resource goes in.");
        return options with { LibvirtDomains = domains, LibvirtUri = uri ?? options.LibvirtUri, LibvirtResourceGroup = group };
    }

    /// <summary>The agent's settings from the command line (shared with the local host of <c>tl server</c>).</summary>
    public static HostAgentOptions Options(Uri server, string? name, string home, string caDirectory, int? vcpus = null, int? memory = null,
        string? accelerator = null)
    {
        string hostName = name ?? DefaultName();
        if (!TrustedLaunch.ControlPlane.Arm.ArmNames.IsHostName(hostName))
            throw new CliException(ExitCode.BadInput, $"The host name '{hostName}' is not valid: 1 to 63 letters, digits, '-' or '.'; give --name.");
        if (vcpus is < 1 || memory is < 128)
            throw new CliException(ExitCode.BadInput, "--vcpus must be at least 1 and --memory at least 128 MiB.");
        return new HostAgentOptions
        {
            Server = server,
            HostName = hostName,
            DataDirectory = home,
            CaDirectory = Path.GetFullPath(caDirectory),
            VCpus = vcpus,
            MemoryInMB = memory,
            Accelerator = accelerator switch
            {
                "kvm" => Accelerator.Kvm,
                "tcg" => Accelerator.Tcg,
                _ => null,
            },
        };
    }

    // The readable default writes "tl host: …" lines to the invocation's stderr; json and systemd use the service's formats.
    private static ILoggerFactory Logs(ParseResult parse, LogFormat format) => format == LogFormat.Console
        ? LoggerFactory.Create(logging => logging.AddProvider(new LineLoggerProvider(parse.Error(), "tl host")))
        : LoggerFactory.Create(logging => ServiceTelemetry.AddLogFormat(logging, format));

    internal static string DefaultName()
    {
        string machine = Environment.MachineName.ToLowerInvariant();
        return TrustedLaunch.ControlPlane.Arm.ArmNames.IsHostName(machine) ? machine : "localhost";
    }
}
