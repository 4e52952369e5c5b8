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
/// A request to attest it now (<c>POST …/attest</c>, <c>tl vm attest</c>) reaches it through the host's long poll
/// (<see cref="Desire"/>) and starts a round at once instead of at the end of the interval.
/// </summary>
internal sealed class LibvirtDomainAttestation(HostAgentOptions options, ControlPlaneClient client, ILogger logger, string domainName) : IAsyncDisposable
{
    private readonly SemaphoreSlim _attestNow = new(0, 1);
    private readonly Lock _gate = new(); // _uuid is written by the rounds and read by the host's poll loop
    private AttestationRelay? _relay;
    private string? _relaySocket;
    private Guid? _uuid;
    private long _attestationGeneration = -1;

    /// <summary>Whether the control plane's assignment is this domain's (by name, or by UUID once a round has read it from libvirt).</summary>
    public bool Is(LibvirtDomainAssignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        lock (_gate)
        {
            return assignment.DomainName == domainName || assignment.VmId == _uuid
                || (Guid.TryParse(domainName, out Guid named) && named == assignment.VmId);
        }
    }

    /// <summary>
    /// The control plane's view of the domain: an attestation generation above the one last seen is a request to attest now. The
    /// first one seen only sets the mark (a request made before this agent started was for the agent that ran then).
    /// </summary>
    public void Desire(LibvirtDomainAssignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        if (assignment.AttestationGeneration <= _attestationGeneration)
            return;
        if (_attestationGeneration >= 0 && _attestNow.CurrentCount == 0)
            _attestNow.Release();
        _attestationGeneration = assignment.AttestationGeneration;
    }

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
                _ = await _attestNow.WaitAsync(interval, token).ConfigureAwait(false); // the interval, or a request to attest now
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
        lock (_gate)
            _uuid = domain.Uuid;
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
        _attestNow.Dispose();
    }
}
