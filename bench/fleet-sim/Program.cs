using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Bench;
using TrustedLaunch.FleetSim;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Testing.Postgres;

// fleet-sim [--vms N] [--interval S] [--replicas R] [--warmup S] [--duration S] [--kill-every S] [--tl PATH/tl.dll] [--json FILE]
// fleet-sim --host-polls N [--replicas R] [--tl PATH/tl.dll]: the change-to-host latency across replicas instead (HostPollLatency).
// Starts a throw-away PostgreSQL cluster (durable settings) and R `tl server` replicas on it (--no-local-host), registers
// N VMs, then every VM attests once per interval, phase-spread: challenge from one replica, a genuine TPM2_Quote over
// that nonce with an AK certificate naming the VM, evidence to the next replica (so every nonce crosses replicas).
// Measured after the warm-up for the duration: attestations/s, failures, p50/p99 of challenge + evidence round trips
// (the quote is the guest's work, excluded), each replica's CPU per attestation, the replicas' PostgreSQL connections.
// --kill-every S: during the measured window, every S seconds one replica (in turn) is killed with SIGKILL and started
// again; a guest whose request fails retries the whole attestation (a fresh challenge) on the replicas alive. At the end:
// every acknowledged result is stored, no nonce was spent twice, and posture folded every stored result (claims of the
// killed replicas expired and were taken over).
Options options = Options.Parse(args);
using var factory = new GenuineEvidenceFactory();
byte[] log = GenuineEvidenceFactory.CaptureLog("ovmf4m-ms-sb-crb");
using var cluster = new PostgresCluster(durable: true, maxConnections: 400);
string databaseName = cluster.CreateDatabase("fleet");
string connectionString = cluster.ConnectionString(databaseName, maxPoolSize: 64);
string work = Path.Combine(Path.GetTempPath(), $"tl-fleet-sim-{Guid.NewGuid():N}");
var replicas = new List<TlServerProcess>();
try
{
    int starts = 0;
    Task<TlServerProcess> StartReplicaAsync() => TlServerProcess.StartAsync(options.Tl, Path.Combine(work, $"replica-{Interlocked.Increment(ref starts)}"),
        "--database", connectionString, "--no-local-host", "--ca", factory.CaDirectory);
    for (int r = 0; r < options.Replicas; r++)
        replicas.Add(await StartReplicaAsync());
    if (options.HostPolls > 0)
    {
        using var pollClient = new HttpClient { Timeout = TimeSpan.FromSeconds(90) };
        Console.WriteLine(await HostPollLatency.RunAsync(pollClient, replicas, options.HostPolls));
        return 0;
    }

    // VMs, each with its own AK certificate (the same genuine AK, certified for that VM id by the platform CA).
    var vms = new Guid[options.Vms];
    var certificates = new byte[options.Vms][];
    using (StoreDatabase database = StoreDatabase.Open(connectionString))
    {
        var registry = new SqlVmRegistry(database);
        for (int i = 0; i < options.Vms; i++)
        {
            vms[i] = Guid.NewGuid();
            certificates[i] = factory.Certify(vms[i], factory.Ca);
            await registry.RegisterAsync(new RegisteredVm(vms[i], null, DateTimeOffset.UtcNow), default);
        }
    }

    using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512 }) { Timeout = TimeSpan.FromSeconds(60) };
    var sim = new Simulation(client, factory, log, vms, certificates, replicas, StartReplicaAsync, options.KillEvery);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"fleet-sim: {options.Vms} VMs every {options.Interval} s (offered {options.Vms / (double)options.Interval:F1}/s) against {options.Replicas} replica(s) on PostgreSQL {cluster.Port}; warm-up {options.Warmup} s, measured {options.Duration} s; {Environment.ProcessorCount} CPUs shared by replicas, PostgreSQL, swtpm and this client"));
    string dataDirectory = cluster.Psql("postgres", "SELECT setting FROM pg_settings WHERE name = 'data_directory'");
    int postmaster = int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
    Measurement m = await sim.RunAsync(TimeSpan.FromSeconds(options.Interval), TimeSpan.FromSeconds(options.Warmup), TimeSpan.FromSeconds(options.Duration),
        () => int.Parse(cluster.Psql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tl-server'"), CultureInfo.InvariantCulture),
        () => ProcessCpu.TreeCpu(postmaster));
    Console.WriteLine(m.Summary());
    Console.WriteLine(string.Join(" | ", replicas.Select((r, i) => $"replica {i}: {(r.HasExited ? "EXITED" : "running")}")));
    Console.WriteLine(await IntegrityCheck.RunAsync(cluster, databaseName, sim.Acknowledged));
    if (options.Json is string json)
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(m, new JsonSerializerOptions { WriteIndented = true }));
    return m.Failures == 0 ? 0 : 1;
}
catch (Exception e)
{
    Console.WriteLine($"fleet-sim: failed: {e}");
    throw;
}
finally
{
    foreach (TlServerProcess replica in replicas)
        replica.Dispose();
    if (Directory.Exists(work))
        Directory.Delete(work, recursive: true);
}

namespace TrustedLaunch.FleetSim
{
    internal sealed record Options(string Tl, int Vms, int Interval, int Replicas, int Warmup, int Duration, int KillEvery, string? Json, int HostPolls = 0)
    {
        public static Options Parse(string[] args)
        {
            string root = AppContext.BaseDirectory;
            while (!File.Exists(Path.Combine(root, "TrustedLaunch.slnx")))
                root = Path.GetDirectoryName(root.TrimEnd('/')) ?? throw new InvalidOperationException("run inside the repository");
            var o = new Options(Path.Combine(root, "src/TrustedLaunch.Cli/bin/Release/net10.0/tl.dll"), 1000, 60, 1, 30, 60, 0, null);
            for (int i = 0; i + 1 < args.Length; i += 2)
            {
                int Int() => int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                o = args[i] switch
                {
                    "--tl" => o with { Tl = args[i + 1] },
                    "--vms" => o with { Vms = Int() },
                    "--interval" => o with { Interval = Int() },
                    "--replicas" => o with { Replicas = Int() },
                    "--warmup" => o with { Warmup = Int() },
                    "--duration" => o with { Duration = Int() },
                    "--kill-every" => o with { KillEvery = Int() },
                    "--json" => o with { Json = args[i + 1] },
                    "--host-polls" => o with { HostPolls = Int() },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }

            return o;
        }
    }

    internal sealed record Measurement(int Replicas, int Vms, double OfferedPerSecond, double AttestationsPerSecond, long Attestations, long Failures,
        double P50Ms, double P99Ms, double[] ReplicaCpuMicrosecondsPerAttestation, int MaxConnections, int Kills, long Retries, string? FirstFailure,
        double PostgresCpuMicrosecondsPerAttestation, double PostgresCores, double ReplicaCores, double SimulatorCores, double MachineBusyCores, double LoadAtStart, double LoadAtEnd)
    {
        public string Summary() =>
            FormattableString.Invariant($"replicas {Replicas} | VMs {Vms} | offered {OfferedPerSecond:F1}/s | sustained {AttestationsPerSecond:F1}/s | attestations {Attestations} | failures {Failures} | ") +
            FormattableString.Invariant($"p50 {P50Ms:F1} ms | p99 {P99Ms:F1} ms | replica CPU per attestation {string.Join(" + ", ReplicaCpuMicrosecondsPerAttestation.Select(c => c.ToString("F0", CultureInfo.InvariantCulture)))} µs ") +
            FormattableString.Invariant($"= {ReplicaCpuMicrosecondsPerAttestation.Sum():F0} µs | PostgreSQL connections (max sampled) {MaxConnections}") +
            (Kills == 0 ? "" : FormattableString.Invariant($" | replicas killed (SIGKILL) {Kills} | attestations retried {Retries}")) +
            FormattableString.Invariant($"\nCPU over the window (cores): replicas {ReplicaCores:F2}, PostgreSQL {PostgresCores:F2} ({PostgresCpuMicrosecondsPerAttestation:F0} µs per attestation), ") +
            FormattableString.Invariant($"simulator {SimulatorCores:F2} (swtpm not included), machine busy {MachineBusyCores:F2} of {Environment.ProcessorCount} | load average {LoadAtStart:F1} → {LoadAtEnd:F1}") +
            (FirstFailure is null ? "" : $"\nfirst failure: {FirstFailure}");
    }

    /// <summary>The fleet: each VM attests once per interval at its own phase; attestations run concurrently, bounded only by the fleet.</summary>
    internal sealed class Simulation(HttpClient client, GenuineEvidenceFactory factory, byte[] log, Guid[] vms, byte[][] certificates, List<TlServerProcess> replicas,
        Func<Task<TlServerProcess>> restart, int killEvery)
    {
        private const int Attempts = 3;
        private readonly List<double> _latencies = [];
        private static readonly SemaphoreSlim Tpm = new(1); // the process has one TPM (the factory's swtpm)
        private readonly TlServerProcess[] _slots = [.. replicas];
        private readonly bool[] _alive = replicas.Select(_ => true).ToArray();
        private long _done, _failures, _next, _retries, _acknowledged;
        private int _kills;
        private string? _firstFailure;
        private volatile bool _measuring;

        public async Task<Measurement> RunAsync(TimeSpan interval, TimeSpan warmup, TimeSpan duration, Func<int> connections, Func<TimeSpan> postgresCpu)
        {
            using var stop = new CancellationTokenSource();
            long start = Stopwatch.GetTimestamp();
            Task[] guests = vms.Select((_, i) => GuestAsync(i, interval * i / vms.Length, interval, stop.Token)).ToArray();
            await Task.Delay(warmup);
            TimeSpan[] cpu0 = _slots.Select(r => r.CpuTime).ToArray();
            TimeSpan pg0 = postgresCpu(), sim0 = Environment.CpuUsage.TotalTime, busy0 = ProcessCpu.MachineBusy();
            double load0 = ProcessCpu.LoadAverage();
            var cpuOfKilled = new TimeSpan[_slots.Length];
            var restarts = new List<Task>();
            long done0 = Interlocked.Read(ref _done);
            _measuring = true;
            long t0 = Stopwatch.GetTimestamp();
            int maxConnections = 0;
            TimeSpan lastKill = TimeSpan.Zero;
            while (Stopwatch.GetElapsedTime(t0) < duration)
            {
                await Task.Delay(TimeSpan.FromSeconds(5));
                try
                {
                    maxConnections = Math.Max(maxConnections, connections());
                }
                catch (InvalidOperationException e)
                {
                    Console.WriteLine($"fleet-sim: connections not sampled: {e.Message}");
                }

                if (killEvery > 0 && Stopwatch.GetElapsedTime(t0) - lastKill >= TimeSpan.FromSeconds(killEvery))
                {
                    lastKill = Stopwatch.GetElapsedTime(t0);
                    int slot = _kills++ % _slots.Length;
                    Volatile.Write(ref _alive[slot], false);
                    cpuOfKilled[slot] += _slots[slot].CpuTime - cpu0[slot];
                    _slots[slot].KillHard();
                    Console.WriteLine(FormattableString.Invariant($"fleet-sim: {lastKill.TotalSeconds:F0} s: replica {slot} killed (SIGKILL); restarting it"));
                    restarts.Add(Task.Run(async () =>
                    {
                        TlServerProcess started = await restart();
                        lock (replicas)
                            replicas.Add(started); // disposed at the end with the others
                        cpu0[slot] = TimeSpan.Zero; // its whole life is in the window
                        _slots[slot] = started;
                        Volatile.Write(ref _alive[slot], true);
                    }));
                }
            }

            _measuring = false;
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            long attestations = Interlocked.Read(ref _done) - done0;
            await Task.WhenAll(restarts);
            TimeSpan[] replicaCpu = _slots.Select((r, i) => cpuOfKilled[i] + r.CpuTime - cpu0[i]).ToArray();
            double[] cpu = replicaCpu.Select(c => c.TotalMicroseconds / Math.Max(1, attestations)).ToArray();
            TimeSpan pg = postgresCpu() - pg0, sim = Environment.CpuUsage.TotalTime - sim0, busy = ProcessCpu.MachineBusy() - busy0;
            double load1 = ProcessCpu.LoadAverage();
            await stop.CancelAsync();
            await Task.WhenAll(guests);
            double[] sorted;
            lock (_latencies)
                sorted = _latencies.Order().ToArray();
            return new Measurement(_slots.Length, vms.Length, vms.Length / interval.TotalSeconds, attestations / seconds, attestations,
                Interlocked.Read(ref _failures), Percentile(sorted, 0.50), Percentile(sorted, 0.99), cpu, maxConnections, _kills, Interlocked.Read(ref _retries),
                _firstFailure, pg.TotalMicroseconds / Math.Max(1, attestations), pg.TotalSeconds / seconds, replicaCpu.Sum(c => c.TotalSeconds) / seconds,
                sim.TotalSeconds / seconds, busy.TotalSeconds / seconds, load0, load1);
        }

        /// <summary>Attestations a replica answered with a verdict (warm-up and measured window).</summary>
        public long Acknowledged => Interlocked.Read(ref _acknowledged);

        // The replica after the n-th in turn that is alive (one always is: kills are one at a time, and restarted).
        private TlServerProcess Pick(long n)
        {
            for (int i = 0; i < _slots.Length; i++)
            {
                int slot = (int)((n + i) % _slots.Length);
                if (Volatile.Read(ref _alive[slot]))
                    return _slots[slot];
            }

            return _slots[(int)(n % _slots.Length)];
        }

        private async Task GuestAsync(int index, TimeSpan phase, TimeSpan interval, CancellationToken stop)
        {
            try
            {
                await Task.Delay(phase, stop);
                using var timer = new PeriodicTimer(interval);
                do
                {
                    await AttestAsync(index, stop);
                }
                while (await timer.WaitForNextTickAsync(stop));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }

        private async Task AttestAsync(int index, CancellationToken stop)
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await AttestOnceAsync(index, last: attempt == Attempts, stop);
                    return;
                }
#pragma warning disable CA1031 // whatever failed (refused connection, reset, 5xx, timeout), the guest tries again elsewhere
                catch (Exception) when (attempt < Attempts && !stop.IsCancellationRequested)
#pragma warning restore CA1031
                {
                    // The replica died under the request (or refused it): a fresh challenge, on the next replica alive.
                    Interlocked.Increment(ref _retries);
                }
            }
        }

        private async Task AttestOnceAsync(int index, bool last, CancellationToken stop)
        {
            Guid vm = vms[index];
            long n = Interlocked.Increment(ref _next);
            TlServerProcess challenger = Pick(n);
            TlServerProcess verifier = Pick(n + 1);
            try
            {
                long a = Stopwatch.GetTimestamp();
                using HttpResponseMessage challenge = await client.PostAsync(new Uri(challenger.Address, $"/v1/vms/{vm}/challenges"), null, stop);
                await Expect(challenge, HttpStatusCode.Created);
                using JsonDocument issued = JsonDocument.Parse(await challenge.Content.ReadAsStreamAsync(stop));
                byte[] nonce = Convert.FromBase64String(issued.RootElement.GetProperty("nonce").GetString()!);
                double challengeMs = Stopwatch.GetElapsedTime(a).TotalMilliseconds;

                // The guest's work: a genuine quote over the nonce (one TPM, serialised; not counted in the latency).
                // The one TPM serialises quotes: wait for it without a thread, so at most one pool thread blocks on it (10,000
                // guests each blocking a pool thread starved the simulator's own HTTP continuations and it stalled).
                AttestationEvidence evidence;
                await Tpm.WaitAsync(stop);
                try
                {
                    evidence = await Task.Run(() => factory.Attest(log, nonce, certificates[index]) with { VmId = vm.ToString() }, stop);
                }
                finally
                {
                    Tpm.Release();
                }

                using var content = new ByteArrayContent(EvidenceJson.Serialize(evidence));
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                long b = Stopwatch.GetTimestamp();
                using HttpResponseMessage verdict = await client.PostAsync(new Uri(verifier.Address, $"/v1/vms/{vm}/attestations"), content, stop);
                await Expect(verdict, HttpStatusCode.OK);
                double evidenceMs = Stopwatch.GetElapsedTime(b).TotalMilliseconds;
                Interlocked.Increment(ref _done);
                Interlocked.Increment(ref _acknowledged);
                if (_measuring)
                {
                    lock (_latencies)
                        _latencies.Add(challengeMs + evidenceMs);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
#pragma warning disable CA1031 // every failure of a guest's last attempt is counted, whatever it is
            catch (Exception e) when (last)
#pragma warning restore CA1031
            {
                if (_measuring)
                    Interlocked.Increment(ref _failures);
                Interlocked.CompareExchange(ref _firstFailure, $"{e.GetType().Name}: {e.Message}", null);
            }
        }

        private static async Task Expect(HttpResponseMessage response, HttpStatusCode status)
        {
            if (response.StatusCode != status)
                throw new InvalidOperationException($"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        private static double Percentile(double[] sorted, double p) =>
            sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1))];
    }

    /// <summary>After the run: acknowledged results all stored, no nonce spent twice, posture caught up with every stored result.</summary>
    internal static class IntegrityCheck
    {
        public static async Task<string> RunAsync(PostgresCluster cluster, string database, long acknowledged)
        {
            string Scalar(string sql) => cluster.Psql(database, sql).Trim();
            // Posture folds what the replicas stored; claims held by killed replicas expire (one lease period) and are taken over.
            long pending = -1;
            for (int i = 0; i < 60 && pending != 0; i++)
            {
                pending = long.Parse(Scalar("SELECT count(*) FROM posture_work WHERE stored_seq > done_seq"), CultureInfo.InvariantCulture);
                if (pending != 0)
                    await Task.Delay(TimeSpan.FromSeconds(1));
            }

            string stored = Scalar("SELECT count(*) FROM attestation_results");
            string consumed = Scalar("SELECT count(*) FROM nonces WHERE consumed_at IS NOT NULL");
            string notFolded = Scalar("SELECT count(*) FROM posture_work w WHERE folded_result_id <> (SELECT max(id) FROM attestation_results r WHERE r.vm_id = w.vm_id)");
            string claimed = Scalar("SELECT count(*) FROM posture_work WHERE claimed_by IS NOT NULL");
            return $"check: acknowledged {acknowledged} | results stored {stored} (lost: {(long.Parse(stored, CultureInfo.InvariantCulture) >= acknowledged ? "none" : "SOME")}) | " +
                $"nonces spent {consumed} (each at most once: one conditional UPDATE) | posture: VMs pending {pending}, not folded to their newest result {notFolded}, claims still held {claimed}";
        }
    }
}
