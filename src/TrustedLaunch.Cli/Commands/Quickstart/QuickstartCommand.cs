using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.Cli.Commands.Vm;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Images;

namespace TrustedLaunch.Cli.Commands.Quickstart;

/// <summary>
/// <c>tl quickstart</c>: from a fresh machine to an attested Trusted Launch VM through the platform — packages, the Debian
/// guest image, <c>tl server</c> with its local host started in the background, a Trusted Launch VM created through the
/// ARM API, waited for until it runs and its first attestation passed, a report with how to reach the API. The service
/// is left running; <c>--stop</c> deletes the quickstart VMs and ends it.
/// </summary>
internal static class QuickstartCommand
{
    public const string ResourceGroup = "quickstart";

    public static Command Create()
    {
        var json = CliOptions.Json("Print the report as JSON (progress stays on stderr).");
        var listen = new Option<string>("--listen") { Description = "Where the service listens (and is reached).", DefaultValueFactory = _ => ArmOptions.DefaultServer };
        var size = new Option<string>("--size") { Description = "The VM size.", DefaultValueFactory = _ => "Standard_B1s" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the VM to run and attest.", DefaultValueFactory = _ => 600 };
        var stop = new Option<bool>("--stop") { Description = "Delete the quickstart VMs (resource group 'quickstart') and end the service quickstart started." };
        var command = new Command("quickstart", ServiceVerbs.Description(ServiceVerb.Quickstart))
        {
            json, listen, size, timeout, stop,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            Uri url = ArmOptions.ServerUri(parse.GetValue(listen));
            var service = new QuickstartService(TlHome.Path, url);
            return parse.GetValue(stop)
                ? await StopAsync(parse, service, url, cancellationToken).ConfigureAwait(false)
                : await RunAsync(parse, service, url, parse.GetValue(size)!, TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(json), cancellationToken)
                    .ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, QuickstartService service, Uri url, string size, TimeSpan timeout, bool json,
        CancellationToken cancellationToken)
    {
        TextWriter error = parse.Error();
        void Progress(string line) => error.WriteLine($"tl quickstart: {line}");
        Directory.CreateDirectory(service.Directory);
        string setupLog = Path.Combine(service.Directory, $"setup-{DateTime.UtcNow:yyyyMMdd-HHmmss}.log");
        Progress($"raw output of apt and of the builds goes to {setupLog}");
        var clock = Stopwatch.StartNew();
        DebianImage image;
        using (var log = new StreamWriter(setupLog, append: true) { AutoFlush = true })
        {
            Progress("packages: checking (scripts/install-deps.sh installs only what is missing)…");
            QuickstartSetup.EnsurePackages(log);
            Progress("image: Debian 12 with the guest agent (built once, then cached)…");
            image = QuickstartSetup.EnsureImage(TlHome.Path, log);
        }

        Progress($"image: {image.RawPath} ({(image.FromCache ? "cached" : "built")}, {clock.Elapsed.TotalSeconds:0} s so far)");
        bool started = await service.EnsureRunningAsync(cancellationToken).ConfigureAwait(false);
        Progress(started ? $"service: tl server with its local host started at {url} (log {service.Log})" : $"service: using the one already at {url}");

        using var api = new ArmApi(url, null);
        string subscription = await api.SubscriptionAsync(cancellationToken).ConfigureAwait(false);
        await api.SendAsync(HttpMethod.Put, await api.GroupPathAsync(ResourceGroup, cancellationToken).ConfigureAwait(false), ArmApi.ResourcesApiVersion,
            ArmApi.Json(new ResourceGroupResource { Location = "local" }, ControlPlaneJson.Web.ResourceGroupResource), cancellationToken).ConfigureAwait(false);
        string name = FormattableString.Invariant($"qs-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        string path = await api.VmPathAsync(ResourceGroup, name, cancellationToken).ConfigureAwait(false);
        var body = new VirtualMachineResource
        {
            Location = "local",
            Properties = new VirtualMachineProperties
            {
                HardwareProfile = new HardwareProfile { VmSize = size },
                StorageProfile = new StorageProfile
                {
                    ImageReference = VmImages.Parse("debian-12"),
                    OsDisk = new OSDisk { CreateOption = "FromImage", DeleteOption = "Delete" },
                },
                SecurityProfile = new SecurityProfile
                {
                    SecurityType = "TrustedLaunch", UefiSettings = new UefiSettings { SecureBootEnabled = true, VTpmEnabled = true },
                },
            },
        };
        var created = Stopwatch.StartNew();
        ArmAnswer put = await api.SendAsync(HttpMethod.Put, path, ArmApi.ComputeApiVersion, ArmApi.Json(body, ControlPlaneJson.Web.VirtualMachineResource), cancellationToken)
            .ConfigureAwait(false);
        string vmId = ArmOutput.At(put.Body!.Value, "properties.vmId")!;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        bool running = true;
        try
        {
            await api.WaitAsync(put.AsyncOperation!, $"boot: creating Trusted Launch VM '{name}' ({vmId}) through the API:", error, deadline.Token).ConfigureAwait(false);
        }
        catch (ArmOperationFailedException e)
        {
            Progress(e.Message);
            running = false;
        }

        TimeSpan toRunning = created.Elapsed;
        JsonElement? attestation = null;
        if (running)
        {
            Progress("attestation: waiting for the host's first attestation of the VM (challenge → guest agent → evidence → verifier)…");
            attestation = await FirstAttestationAsync(api, vmId, deadline.Token).ConfigureAwait(false);
            Progress($"attestation: {ArmOutput.At(attestation.Value, "verdict")} ({created.Elapsed.TotalSeconds:0.0} s after the create request)");
        }

        JsonElement vm = (await api.GetAsync(path + "?$expand=instanceView", ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value;
        string console = (await api.SendAsync(HttpMethod.Get, $"{path}/serialConsoleLog", ArmApi.ComputeApiVersion, null, cancellationToken).ConfigureAwait(false)).Text;
        JsonElement? identity = null;
        if (running)
            identity = (await api.GetAsync($"{path}/shieldedInstanceIdentity", ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false)).Body;
        QuickstartReport report = QuickstartReport.From(vm, console, identity, attestation, new QuickstartContext(url, subscription, ResourceGroup, name,
            image.RawPath, service.Log, setupLog, Path.Combine(TlHome.Path, "vms", vmId), toRunning, attestation is null ? null : created.Elapsed));
        if (json)
            CliJson.Write(report, parse.Out());
        else
            parse.Out().Write(report.ToText());
        return report.Running && report.AttestationPassed ? (int)ExitCode.Ok : (int)ExitCode.VerificationFailed;
    }

    // The VM's first stored attestation result (pass or fail), polled from the attestation API.
    private static async Task<JsonElement> FirstAttestationAsync(ArmApi api, string vmId, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return (await api.SendAsync(HttpMethod.Get, $"v1/vms/{vmId}/attestations/latest", null, null, cancellationToken).ConfigureAwait(false)).Body!.Value;
            }
            catch (ArmApiException e) when (e.Status == HttpStatusCode.NotFound)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<int> StopAsync(ParseResult parse, QuickstartService service, Uri url, CancellationToken cancellationToken)
    {
        if (await service.AnswersAsync(cancellationToken).ConfigureAwait(false))
        {
            using var api = new ArmApi(url, null);
            try
            {
                ArmAnswer deleting = await api.SendAsync(HttpMethod.Delete, await api.GroupPathAsync(ResourceGroup, cancellationToken).ConfigureAwait(false),
                    ArmApi.ResourcesApiVersion, null, cancellationToken).ConfigureAwait(false);
                parse.Error().WriteLine("tl quickstart: deleting the quickstart VMs (resource group 'quickstart')…");
                while (deleting.Location is string monitor
                       && (await api.SendAsync(HttpMethod.Get, monitor, null, null, cancellationToken).ConfigureAwait(false)).Status == HttpStatusCode.Accepted)
                    await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }
            catch (ArmApiException e) when (e.Status == HttpStatusCode.NotFound)
            {
                // No quickstart group: nothing to delete.
            }
        }

        bool stopped = await service.StopAsync().ConfigureAwait(false);
        parse.Error().WriteLine(stopped ? "tl quickstart: the service is stopped" : "tl quickstart: no service started by quickstart was running");
        return (int)ExitCode.Ok;
    }
}
