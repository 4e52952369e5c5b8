using System.Reflection;
using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.HostAgent.Http;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.HostAgent;

/// <summary>
/// <c>tl host</c>: runs a hypervisor's VMs for the control plane. It registers (name, vCPUs, memory, KVM or TCG),
/// adopts the VMs still running from before its last stop, long-polls the desired state of the VMs placed on it, hands
/// each to its VM's supervisor (<see cref="VmSupervisor"/>), and sends their reports. Every connection goes from the host
/// to the control plane; none comes in. Stopping the agent (or killing it) leaves its VMs running.
/// </summary>
public sealed class HostAgent
{
    private readonly HostAgentOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<Guid, VmSupervisor> _vms = [];
    private readonly List<(Libvirt.LibvirtDomainAttestation Attestation, Task Running)> _libvirt = [];

    public HostAgent(HostAgentOptions options, ILogger logger)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>The agent's version, sent at registration.</summary>
    public static string Version => typeof(HostAgent).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    /// <summary>Set once the agent has registered and adopted its running VMs.</summary>
    public Task Ready => _ready.Task;

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled; the VMs keep running after it returns.</summary>
    /// <exception cref="PlatformCaException">The CA folder is unusable.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        string hostKey = HostKey.Ensure(_options.HostDirectory);
        var platformCa = new Lazy<IPlatformCa>(() => FilePlatformCa.Open(_options.CaDirectory));
        HostCapacity capacity = HostCapacity.Detect(_options);
        using var client = new ControlPlaneClient(_options.Server, credential: _options.Credential);
        using var reports = new ReportQueue();
        var context = new HostAgentContext(_options, client, _logger, hostKey, () => platformCa.Value, reports.Post);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task sending = reports.RunAsync((batch, token) => client.ReportAsync(_options.HostName, new HostReport { VirtualMachines = batch }, token),
            _options.RetryDelay, stop.Token);
        Task renewing = new HostCertificateRenewal(_options, client, _logger).RunAsync(stop.Token);
        try
        {
            HostView registered = await RegisterAsync(client, capacity, stop.Token).ConfigureAwait(false);
            foreach (Guid id in VmFolder.List(_options.VmsDirectory))
                _vms[id] = new VmSupervisor(context, id);
            _ready.TrySetResult();
            foreach (string domain in _options.LibvirtDomains)
            {
                var attestation = new Libvirt.LibvirtDomainAttestation(_options, client, _logger, domain);
                _libvirt.Add((attestation, attestation.RunAsync(stop.Token)));
            }

            await PollAsync(client, context, capacity, registered, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Asked to stop.
        }
        finally
        {
            _ready.TrySetCanceled(CancellationToken.None);
            foreach (VmSupervisor vm in _vms.Values)
                await vm.DisposeAsync().ConfigureAwait(false);
            _vms.Clear();
            await stop.CancelAsync().ConfigureAwait(false);
            foreach ((Libvirt.LibvirtDomainAttestation attestation, Task running) in _libvirt)
            {
                await running.ConfigureAwait(false);
                await attestation.DisposeAsync().ConfigureAwait(false);
            }
            try
            {
                await Task.WhenAll(sending, renewing).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The report queue and the renewal checks stop with the agent.
            }
        }
    }

    private async Task PollAsync(ControlPlaneClient client, HostAgentContext context, HostCapacity capacity, HostView registered, CancellationToken token)
    {
        string? pollToken = null;
        TimeSpan pollTimeout = PollTimeout(registered);
        var unassignedLogged = new HashSet<Guid>();
        var snapshots = new Lifecycle.SnapshotKeeper(_options, client, _logger);
        var disks = new Lifecycle.DiskKeeper(_options, client, _logger);
        while (!token.IsCancellationRequested)
        {
            HostAssignments assignments;
            try
            {
                assignments = await client.PollAsync(_options.HostName, pollToken, pollTimeout, token).ConfigureAwait(false);
            }
            catch (ControlPlaneCallException e) when (e.Code == "HostNotFound")
            {
                registered = await RegisterAsync(client, capacity, token).ConfigureAwait(false); // the control plane lost us (a new database)
                pollTimeout = PollTimeout(registered);
                continue;
            }
            catch (ControlPlaneCallException e)
            {
                Log.ServerUnreachable(_logger, _options.HostName, e.Message);
                await Task.Delay(_options.RetryDelay, token).ConfigureAwait(false);
                pollToken = null; // ask for the whole state again once it answers (it may have restarted)
                continue;
            }

            pollToken = assignments.Token;
            foreach (VmAssignment assignment in assignments.VirtualMachines)
            {
                if (!_vms.TryGetValue(assignment.VmId, out VmSupervisor? vm))
                    _vms[assignment.VmId] = vm = new VmSupervisor(context, assignment.VmId);
                vm.Desire(assignment);
            }

            foreach (LibvirtDomainAssignment domain in assignments.LibvirtDomains ?? [])
            {
                foreach ((Libvirt.LibvirtDomainAttestation attestation, _) in _libvirt.Where(l => l.Attestation.Is(domain)))
                    attestation.Desire(domain);
            }

            snapshots.Converge(assignments.Snapshots, id => _vms.GetValueOrDefault(id), token);
            disks.Converge(assignments.Disks, token);
            foreach ((Guid id, VmSupervisor vm) in _vms.ToArray())
            {
                if (vm.Completion.IsCompleted)
                {
                    await vm.DisposeAsync().ConfigureAwait(false);
                    _vms.Remove(id);
                }
                else if (!assignments.VirtualMachines.Any(a => a.VmId == id) && unassignedLogged.Add(id))
                {
                    Log.Unassigned(_logger, Path.Combine(_options.VmsDirectory, id.ToString("D")));
                }
            }
        }
    }

    private async Task<HostView> RegisterAsync(ControlPlaneClient client, HostCapacity capacity, CancellationToken token)
    {
        var registration = new HostRegistration
        {
            VCpus = capacity.VCpus,
            MemoryInMB = capacity.MemoryInMB,
            Accelerator = capacity.Accelerator.Accelerator.ToString().ToLowerInvariant(),
            AgentVersion = Version,
        };
        while (true)
        {
            try
            {
                HostView view = await client.RegisterAsync(_options.HostName, registration, token).ConfigureAwait(false);
                Log.Registered(_logger, _options.HostName, _options.Server, view.VCpus, view.MemoryInMB, view.Accelerator);
                return view;
            }
            catch (ControlPlaneCallException e) when (e.StatusCode is null || (int)e.StatusCode >= 500)
            {
                Log.ServerUnreachable(_logger, _options.HostName, e.Message);
                await Task.Delay(_options.RetryDelay, token).ConfigureAwait(false);
            }
        }
    }

    // Poll well within the liveness window, so that a poll the control plane holds to its end still counts as a heartbeat.
    private TimeSpan PollTimeout(HostView registered) => registered.LivenessWindowSeconds > 0
        ? TimeSpan.FromSeconds(Math.Clamp(registered.LivenessWindowSeconds / 3, 1, _options.DefaultPollTimeout.TotalSeconds))
        : _options.DefaultPollTimeout;
}
