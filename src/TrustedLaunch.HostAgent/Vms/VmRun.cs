using TrustedLaunch.HostAgent.Attestation;
using TrustedLaunch.Runtime;
using TrustedLaunch.Runtime.Console;

namespace TrustedLaunch.HostAgent.Vms;

/// <summary>
/// One run of a VM (from a start or an adoption to its end): the VM, the version it runs at, the boot verdict when it
/// came, and for an attested VM the attestation loop. Cancelled when the run ends.
/// </summary>
internal sealed class VmRun : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _attestNow = new(0);

    public VmRun(VirtualMachine vm, long version, bool createdThisRun)
    {
        Vm = vm;
        Version = version;
        CreatedThisRun = createdThisRun;
    }

    public VirtualMachine Vm { get; }

    /// <summary>The assignment version the VM runs at (raised by updates that need no restart).</summary>
    public long Version { get; set; }

    /// <summary>This run is the VM's first boot right after its folder was made: a failed boot undoes the creation.</summary>
    public bool CreatedThisRun { get; }

    /// <summary>The verdict, once the console showed one.</summary>
    public BootVerdict? Verdict { get; set; }

    /// <summary>A failed verdict the supervisor has not acted on yet.</summary>
    public bool FailurePending { get; set; }

    /// <summary>The owner of this run asked it to end (stop, restart, delete): its exit is not the guest's doing.</summary>
    public bool StopRequested { get; set; }

    public AttestationRelay? Relay { get; set; }

    public Task? Attestation { get; set; }

    public CancellationToken Token => _stop.Token;

    /// <summary>Wakes the attestation loop for an attestation now (<c>tl vm attest</c>).</summary>
    public void AttestNow() => _attestNow.Release();

    /// <summary>Waits for <paramref name="interval"/> or an attest-now request, whichever comes first.</summary>
    public Task<bool> WaitForNextAttestationAsync(TimeSpan interval) => _attestNow.WaitAsync(interval, _stop.Token);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (Attestation is not null)
        {
            try
            {
                await Attestation.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Expected: the run ended.
            }
        }

        if (Relay is not null)
            await Relay.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _attestNow.Dispose();
    }
}
