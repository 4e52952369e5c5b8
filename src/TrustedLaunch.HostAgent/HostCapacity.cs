using System.Globalization;
using TrustedLaunch.Runtime.Acceleration;

namespace TrustedLaunch.HostAgent;

/// <summary>What a host offers its VMs: vCPUs, memory and how QEMU runs guest code (the runtime's own KVM probe).</summary>
public sealed record HostCapacity(int VCpus, int MemoryInMB, AcceleratorChoice Accelerator)
{
    /// <summary>The machine's processors and memory (<c>/proc/meminfo</c> MemTotal), unless <paramref name="options"/> names others.</summary>
    public static HostCapacity Detect(HostAgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        AcceleratorChoice accelerator = options.Accelerator is Accelerator forced
            ? new AcceleratorChoice(forced, "forced by --accelerator")
            : AcceleratorProbe.Detect();
        return new HostCapacity(options.VCpus ?? Environment.ProcessorCount, options.MemoryInMB ?? MachineMemoryInMB(), accelerator);
    }

    private static int MachineMemoryInMB()
    {
        foreach (string line in File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo") : [])
        {
            // proc(5): "MemTotal:       24684120 kB"
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal)
                && long.TryParse(line["MemTotal:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
                return (int)Math.Min(int.MaxValue, kb / 1024);
        }

        return 1024;
    }
}
