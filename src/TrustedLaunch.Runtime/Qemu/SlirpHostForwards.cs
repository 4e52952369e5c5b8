using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TrustedLaunch.Runtime.Qemu;

/// <summary>
/// The host forwards of a running VM's slirp NICs, changed while it runs: QMP has no command for them, so they go
/// through QMP's <c>human-monitor-command</c> with the monitor's <c>hostfwd_remove netN tcp:addr:port</c> and
/// <c>hostfwd_add netN tcp:addr:port-:guestport</c> on the NIC's netdev (<c>net0</c>, <c>net1</c>, … as
/// <see cref="QemuCommandLine"/> names them). What is in place starts as the launch's <c>hostfwd=</c> options (read back
/// from the QEMU arguments, so an adopted VM knows them too) and follows every change made here. One caller at a time
/// (a VM's supervisor changes it from its one loop).
/// </summary>
internal sealed partial class SlirpHostForwards
{
    private readonly List<HashSet<QemuHostForward>> _nics;

    private SlirpHostForwards(List<HashSet<QemuHostForward>> nics) => _nics = nics;

    /// <summary>The forwards of each <c>-netdev user,id=netN</c> of a QEMU command line, by N.</summary>
    public static SlirpHostForwards FromArguments(IReadOnlyList<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var nics = new List<HashSet<QemuHostForward>>();
        for (int i = 0; i + 1 < arguments.Count; i++)
        {
            if (arguments[i] != "-netdev" || NetdevId().Match(arguments[i + 1]) is not { Success: true } id)
                continue;
            int index = int.Parse(id.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
            while (nics.Count <= index)
                nics.Add([]);
            foreach (Match forward in HostForward().Matches(arguments[i + 1]))
            {
                nics[index].Add(new QemuHostForward(forward.Groups[1].Value, int.Parse(forward.Groups[2].ValueSpan, CultureInfo.InvariantCulture),
                    int.Parse(forward.Groups[3].ValueSpan, CultureInfo.InvariantCulture)));
            }
        }

        return new SlirpHostForwards(nics);
    }

    /// <summary>The forwards in place on NIC <paramref name="nicIndex"/> (empty for a NIC the VM does not have).</summary>
    public IReadOnlyCollection<QemuHostForward> Of(int nicIndex) => nicIndex < _nics.Count ? [.. _nics[nicIndex]] : [];

    /// <summary>
    /// Makes NIC <paramref name="nicIndex"/>'s forwards <paramref name="desired"/>: removes the others, then adds the new
    /// ones. False when nothing had to change, or the VM has no such NIC (a NIC added to a running VM needs a restart).
    /// </summary>
    public async Task<bool> SetAsync(QmpClient qmp, int nicIndex, IReadOnlyList<QemuHostForward> desired, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(qmp);
        ArgumentNullException.ThrowIfNull(desired);
        foreach (QemuHostForward forward in desired)
            _ = QemuCommandLine.HostForwardRule(forward); // checked before anything changes
        if (nicIndex < 0 || nicIndex >= _nics.Count)
            return false;
        HashSet<QemuHostForward> current = _nics[nicIndex];
        QemuHostForward[] removed = [.. current.Where(f => !desired.Contains(f))];
        QemuHostForward[] added = [.. desired.Distinct().Where(f => !current.Contains(f))];
        string netdev = $"net{nicIndex.ToString(CultureInfo.InvariantCulture)}";
        foreach (QemuHostForward forward in removed)
        {
            string rule = QemuCommandLine.HostForwardRule(forward);
            string answer = await MonitorAsync(qmp, $"hostfwd_remove {netdev} {rule[..rule.LastIndexOf('-')]}", cancellationToken).ConfigureAwait(false);
            if (!answer.Contains("removed", StringComparison.Ordinal) && !answer.Contains("not found", StringComparison.Ordinal))
                throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed, $"QEMU did not remove the host forward {rule} of {netdev}: {answer}");
            current.Remove(forward);
        }

        foreach (QemuHostForward forward in added)
        {
            string rule = QemuCommandLine.HostForwardRule(forward);
            string answer = await MonitorAsync(qmp, $"hostfwd_add {netdev} {rule}", cancellationToken).ConfigureAwait(false);
            if (answer.Length > 0) // the monitor says nothing when the forward is in place
                throw new VmRuntimeException(VmRuntimeFailure.ComponentFailed, $"QEMU did not add the host forward {rule} to {netdev}: {answer}");
            current.Add(forward);
        }

        return removed.Length + added.Length > 0;
    }

    private static async Task<string> MonitorAsync(QmpClient qmp, string commandLine, CancellationToken cancellationToken)
    {
        string arguments = $"{{\"command-line\":{JsonSerializer.Serialize(commandLine, QmpJsonContext.Default.String)}}}";
        string answer = await qmp.ExecuteAsync("human-monitor-command", arguments, cancellationToken).ConfigureAwait(false);
        return (JsonSerializer.Deserialize(answer, QmpJsonContext.Default.String) ?? "").Trim();
    }

    [GeneratedRegex("^user,id=net([0-9]+)(,|$)")]
    private static partial Regex NetdevId();

    [GeneratedRegex(",hostfwd=tcp:([0-9.]+):([0-9]+)-:([0-9]+)")]
    private static partial Regex HostForward();
}
