using System.Diagnostics;
using System.Globalization;
using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Posture;

namespace TrustedLaunch.Benchmarks.Posture;

/// <summary>
/// The posture pipeline's CPU per attestation, measured so that machine load cannot blur it: CPU time (the process's, and
/// the measuring thread's), not wall time. Same process, same fleet (<see cref="PipelineAttestations"/>, 1,000 VMs, plan
/// Standard): blocks of attestations stored without posture (the bare result store; the block's results are folded
/// afterwards, untimed) and with it, as the service stores them (a fingerprint each, a repeat folded where it is stored, an
/// engine run after every <c>B</c> attestations when one of them asked for it: B = 1 is an idle service, each result in
/// its own run; 10 and 100 a busy one whose coalescing window gathers that many), interleaved and alternating which goes
/// first, repeated. Cases: passes of a healthy VM; "a": passes that repeat the VM's open untrusted-module alert; "c":
/// passes whose finding is worded anew each time, so nothing repeats and the engine folds every result (a fleet in flux).
/// Each round gives one paired difference per case; the report is their mean with a 95 % confidence interval (Student's
/// t), as µs of CPU per attestation and as a share of the posture-off attestation. Allocation per attestation from the
/// GC's counters.
/// Run: flock /tmp/tl-build.lock dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- posture-cpu [ROUNDS [BLOCK [B,B,…]]] (default 10 500 1,10,100,100a)
/// </summary>
internal static class PostureCpu
{
    public const string Command = "posture-cpu";

    // Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom.
    private static readonly double[] T975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        int block = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500;
        // A case: B, or B followed by "a" (the passes repeat an open alert: the golden evidence's refused module) or "c" (each
        // pass words that finding differently: nothing repeats, every result goes through the engine).
        string[] cases = args.Length > 2 ? args[2].Split(',') : ["1", "10", "100", "100a"];
        // One thread runs every continuation (a pumped synchronization context), so its CPU time is the pipeline's own; the
        // process's adds the GC's and the host's idle timers.
        return ThreadPump.Run(() => Measure(rounds, block, cases));
    }

    private static async Task<int> Measure(int rounds, int block, string[] batches)
    {
        string loadBefore = LoadAverage();
        await using PipelineAttestations fleet = await PipelineAttestations.StartAsync(1000);
        // Warm-up (tiered JIT, dynamic PGO, SQLite page cache): one untimed block of each kind.
        foreach (string b in batches)
        {
            await Block(fleet, block, b, posture: false);
            await Block(fleet, block, b, posture: true);
        }

        var off = batches.ToDictionary(b => b, _ => new List<Sample>());
        var on = batches.ToDictionary(b => b, _ => new List<Sample>());
        var clock = Stopwatch.StartNew();
        for (int round = 0; round < rounds; round++)
        {
                foreach (string b in batches)
            {
                if (round % 2 == 0)
                {
                    off[b].Add(await Block(fleet, block, b, posture: false));
                    on[b].Add(await Block(fleet, block, b, posture: true));
                }
                else
                {
                    on[b].Add(await Block(fleet, block, b, posture: true));
                    off[b].Add(await Block(fleet, block, b, posture: false));
                }
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"posture-cpu: {rounds} rounds × {block} attestations per block and case, 1,000 VMs, plan Standard; {clock.Elapsed.TotalSeconds:F0} s; load average before {loadBefore}, after {LoadAverage()}"));
        Console.WriteLine("B = attestations per posture run (a: each pass repeats the VM's open alert; c: each pass changes that alert's evidence). CPU µs per attestation (mean of rounds); " +
            "posture = on − off, paired per round, ±95 % CI; writes = assessment status changes + events + alerts created, per run; " +
            "folded where stored = share of the on block's results folded in their own transaction; engine runs = runs × B ÷ block.");
        Console.WriteLine("| B | off: process CPU | on: process CPU | posture: process CPU | share | posture: thread CPU | share | allocated off → on (bytes/attestation) | writes per run | folded where stored | engine runs |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (string b in batches)
        {
            (double offProcess, double process, double processCi) = Difference(off[b], on[b], s => s.ProcessMicros);
            (double offThread, double thread, double threadCi) = Difference(off[b], on[b], s => s.ThreadMicros);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {b} | {offProcess:F0} | {offProcess + process:F0} | {process:F1} ± {processCi:F1} | {100 * process / offProcess:F1} % ± {100 * processCi / offProcess:F1} | " +
                $"{thread:F1} ± {threadCi:F1} | {100 * thread / offThread:F1} % ± {100 * threadCi / offThread:F1} | " +
                $"{off[b].Average(s => s.Bytes):F0} → {on[b].Average(s => s.Bytes):F0} | {on[b].Average(s => s.Writes):F2} | " +
                $"{100 * on[b].Average(s => s.FoldedWhereStored):F1} % | {100 * on[b].Average(s => s.RunShare):F1} % |"));
        }

        return 0;
    }

    // (mean of off, mean of on − off, half-width of its 95 % confidence interval) over the rounds' paired differences.
    private static (double Off, double Difference, double HalfWidth) Difference(List<Sample> off, List<Sample> on, Func<Sample, double> value)
    {
        double[] d = [.. off.Zip(on, (a, b) => value(b) - value(a))];
        double mean = d.Average();
        double sd = d.Length > 1 ? Math.Sqrt(d.Sum(x => (x - mean) * (x - mean)) / (d.Length - 1)) : double.NaN;
        double t = d.Length - 1 is int df and >= 1 ? df <= T975.Length ? T975[df - 1] : 1.96 : double.NaN;
        return (off.Average(value), mean, t * sd / Math.Sqrt(d.Length));
    }

    // block attestations of case b; with posture, an engine run after every B of them; without, posture's backlog is folded
    // after the block, untimed.
    private static async Task<Sample> Block(PipelineAttestations fleet, int block, string b, bool posture)
    {
        int batch = int.Parse(b.TrimEnd('a', 'c'), CultureInfo.InvariantCulture);
        fleet.WithFindings = b.EndsWith('a') || b.EndsWith('c');
        fleet.ChangingFindings = b.EndsWith('c');
        using Process process = Process.GetCurrentProcess();
        int threadId = Environment.CurrentManagedThreadId;
        TimeSpan cpu0 = process.TotalProcessorTime;
        long thread0 = ThreadCpuNanoseconds();
        long bytes0 = GC.GetTotalAllocatedBytes(precise: true);
        int runs = 0, writes = 0, folded = 0;
        fleet.WithPosture = posture;
        Task wake = fleet.Signals.NextEvaluationAsync();
        for (int i = 1; i <= block; i++)
        {
            if ((await fleet.AttestAsync(failure: null)).PostureFolded)
                folded++;
            // As the worker does: an engine run only when a stored result asked for one (a repeat folded where it was stored does not).
            if (posture && i % batch == 0 && wake.IsCompleted)
            {
                wake = fleet.Signals.NextEvaluationAsync();
                PostureRun run = await fleet.Engine.RunOnceAsync(fullSweep: false, default);
                runs++;
                writes += run.StatusChanges + run.Events + run.AlertsCreated;
            }
        }

        long bytes = GC.GetTotalAllocatedBytes(precise: true) - bytes0;
        long thread = ThreadCpuNanoseconds() - thread0;
        if (Environment.CurrentManagedThreadId != threadId)
            throw new InvalidOperationException("an await resumed on another thread: the thread's CPU time would not be the block's");
        process.Refresh();
        TimeSpan cpu = process.TotalProcessorTime - cpu0;
        if (!posture)
            await fleet.Engine.RunOnceAsync(fullSweep: false, default);
        return new Sample(cpu.TotalMicroseconds / block, thread / 1000.0 / block, (double)bytes / block, runs == 0 ? 0 : (double)writes / runs,
            (double)folded / block, (double)runs * batch / block);
    }

    // The calling thread's time on a CPU (the scheduler's own count, nanoseconds): /proc/thread-self/schedstat, first field.
    private static long ThreadCpuNanoseconds() =>
        long.Parse(File.ReadAllText("/proc/thread-self/schedstat").Split(' ')[0], CultureInfo.InvariantCulture);

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private readonly record struct Sample(double ProcessMicros, double ThreadMicros, double Bytes, double Writes, double FoldedWhereStored, double RunShare);
}
