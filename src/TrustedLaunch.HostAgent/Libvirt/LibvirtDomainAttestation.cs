using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.HostAgent.Attestation;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostSystem.Processes;

namespace TrustedLaunch.HostAgent.Libvirt;

/// <summary>
/// <c>tl host --libvirt-domain NAME</c>: attests a VM this project did not start. Each round reads the domain from libvirt
/// (<c>virsh -c URI dumpxml</c> and <c>domstate</c>), registers it with the control plane as a VM resource marked externally managed
/// (<c>PUT /v1/hosts/{host}/libvirtDomains/{uuid}</c>), and — while it runs — relays a challenge to its guest agent over the
/// domain's virtio-serial channel and posts the evidence, as for the VMs the host runs itself (<see cref="AttestationRelay"/>).
/// </summary>
internal sealed class LibvirtDomainAttestation(HostAgentOptions options, ControlPlaneClient client, ILogger logger, string domainName) : IAsyncDisposable
{
    private AttestationRelay? _relay;
    private string? _relaySocket;

    public async Task RunAsync(CancellationToken token)
    {
        TimeSpan interval = TimeSpan.FromSeconds(ControlPlane.Services.VmPlanner.DefaultAttestationIntervalSeconds);
        while (!token.IsCancellationRequested)
        {
            try
            {
                interval = await RoundAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // One failed round (libvirt, the control plane, the guest channel) is logged; the next round tries again.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.LibvirtDomainFailed(logger, domainName, e.Message);
            }

            try
            {
                await Task.Delay(interval, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<TimeSpan> RoundAsync(CancellationToken token)
    {
        LibvirtDomain domain = LibvirtDomain.Parse(Virsh("dumpxml", domainName));
        bool running = Virsh("domstate", domainName).Trim().StartsWith("running", StringComparison.Ordinal);
        LibvirtDomainRegistered registered = await client.RegisterLibvirtDomainAsync(options.HostName, domain.Uuid, new LibvirtDomainRegistration
        {
            DomainName = domain.Name,
            ConnectionUri = options.LibvirtUri,
            AgentSocket = domain.AgentSocket,
            SubscriptionId = options.LibvirtSubscription,
            ResourceGroup = options.LibvirtResourceGroup,
            VCpus = domain.VCpus,
            MemoryInMB = domain.MemoryMiB,
            PowerState = running ? "Running" : "Stopped",
            SecureBootEnabled = domain.SecureBoot,
        }, token).ConfigureAwait(false);
        if (!running || !domain.HasTpm)
        {
            if (!domain.HasTpm)
                Log.LibvirtDomainFailed(logger, domainName, "it has no <tpm> with a TPM 2.0 emulator backend: nothing to attest");
            return TimeSpan.FromSeconds(registered.AttestationIntervalSeconds);
        }

        if (_relay is null || _relaySocket != domain.AgentSocket)
        {
            if (_relay is not null)
                await _relay.DisposeAsync().ConfigureAwait(false);
            _relay = new AttestationRelay(domain.Uuid, domain.AgentSocket, client, options.AttestationDeadline, logger);
            _relaySocket = domain.AgentSocket;
        }

        _ = await _relay.AttestAsync(token).ConfigureAwait(false); // the relay logs the outcome under the VM id (the domain's UUID)
        return TimeSpan.FromSeconds(registered.AttestationIntervalSeconds);
    }

    private string Virsh(string verb, string name)
    {
        ProcessResult result;
        try
        {
            result = ExternalProcess.Run(options.VirshProgram, ["-c", options.LibvirtUri, verb, name], new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(30) });
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException or IOException)
        {
            throw new LibvirtDomainException($"virsh -c {options.LibvirtUri} {verb} {name} could not run: {e.Message} (install libvirt-clients)", e);
        }

        if (result.ExitCode != 0)
            throw new LibvirtDomainException($"virsh -c {options.LibvirtUri} {verb} {name} failed ({result.ExitCode}): {result.StandardError.Trim()}");
        return result.StandardOutput;
    }

    public async ValueTask DisposeAsync()
    {
        if (_relay is not null)
            await _relay.DisposeAsync().ConfigureAwait(false);
    }
}
