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

// fleet-sim [--vms N] [--interval S] [--replicas R] [--warmup S] [--duration S] [--tl PATH/tl.dll] [--json FILE]
// Starts a throw-away PostgreSQL cluster (durable settings) and R `tl server` replicas on it (--no-local-host), registers
// N VMs, then every VM attests once per interval, phase-spread: challenge from one replica, a genuine TPM2_Quote over
// that nonce with an AK certificate naming the VM, evidence to the next replica (so every nonce crosses replicas).
// Measured after the warm-up for the duration: attestations/s, failures, p50/p99 of challenge + evidence round trips
// (the quote is the guest's work, excluded), each replica's CPU per attestation, the replicas' PostgreSQL connections.
Options options = Options.Parse(args);
using var factory = new GenuineEvidenceFactory();
byte[] log = GenuineEvidenceFactory.CaptureLog("ovmf4m-ms-sb-crb");
using var cluster = new PostgresCluster(durable: true, maxConnections: 400);
string connectionString = cluster.ConnectionString(cluster.CreateDatabase("fleet"), maxPoolSize: 64);
string work = Path.Combine(Path.GetTempPath(), $"tl-fleet-sim-{Guid.NewGuid():N}");
var replicas = new List<TlServerProcess>();
try
{
    for (int r = 0; r < options.Replicas; r++)
        replicas.Add(await TlServerProcess.StartAsync(options.Tl, Path.Combine(work, $"replica-{r}"), "--database", connectionString, "--no-local-host", "--ca", factory.CaDirectory));

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
    var sim = new Simulation(client, factory, log, vms, certificates, replicas);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"fleet-sim: {options.Vms} VMs every {options.Interval} s (offered {options.Vms / (double)options.Interval:F1}/s) against {options.Replicas} replica(s) on PostgreSQL {cluster.Port}; warm-up {options.Warmup} s, measured {options.Duration} s; {Environment.ProcessorCount} CPUs shared by replicas, PostgreSQL, swtpm and this client"));
    Measurement m = await sim.RunAsync(TimeSpan.FromSeconds(options.Interval), TimeSpan.FromSeconds(options.Warmup), TimeSpan.FromSeconds(options.Duration),
        () => int.Parse(cluster.Psql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tl-server'"), CultureInfo.InvariantCulture));
    Console.WriteLine(m.Summary());
    if (options.Json is string json)
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(m, new JsonSerializerOptions { WriteIndented = true }));
    return m.Failures == 0 ? 0 : 1;
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
    internal sealed record Options(string Tl, int Vms, int Interval, int Replicas, int Warmup, int Duration, string? Json)
    {
        public static Options Parse(string[] args)
        {
            string root = AppContext.BaseDirectory;
            while (!File.Exists(Path.Combine(root, "TrustedLaunch.slnx")))
                root = Path.GetDirectoryName(root.TrimEnd('/')) ?? throw new InvalidOperationException("run inside the repository");
            var o = new Options(Path.Combine(root, "src/TrustedLaunch.Cli/bin/Release/net10.0/tl.dll"), 1000, 60, 1, 30, 60, null);
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
                    "--json" => o with { Json = args[i + 1] },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }

            return o;
        }
    }

    internal sealed record Measurement(int Replicas, int Vms, double OfferedPerSecond, double AttestationsPerSecond, long Attestations, long Failures,
        double P50Ms, double P99Ms, double[] ReplicaCpuMicrosecondsPerAttestation, int MaxConnections, string? FirstFailure)
    {
        public string Summary() =>
            FormattableString.Invariant($"replicas {Replicas} | VMs {Vms} | offered {OfferedPerSecond:F1}/s | sustained {AttestationsPerSecond:F1}/s | attestations {Attestations} | failures {Failures} | ") +
            FormattableString.Invariant($"p50 {P50Ms:F1} ms | p99 {P99Ms:F1} ms | replica CPU per attestation {string.Join(" + ", ReplicaCpuMicrosecondsPerAttestation.Select(c => c.ToString("F0", CultureInfo.InvariantCulture)))} µs ") +
            FormattableString.Invariant($"= {ReplicaCpuMicrosecondsPerAttestation.Sum():F0} µs | PostgreSQL connections (max sampled) {MaxConnections}") +
            (FirstFailure is null ? "" : $"\nfirst failure: {FirstFailure}");
    }

    /// <summary>The fleet: each VM attests once per interval at its own phase; attestations run concurrently, bounded only by the fleet.</summary>
    internal sealed class Simulation(HttpClient client, GenuineEvidenceFactory factory, byte[] log, Guid[] vms, byte[][] certificates, List<TlServerProcess> replicas)
    {
        private readonly List<double> _latencies = [];
        private long _done, _failures, _next;
        private string? _firstFailure;
        private volatile bool _measuring;

        public async Task<Measurement> RunAsync(TimeSpan interval, TimeSpan warmup, TimeSpan duration, Func<int> connections)
        {
            using var stop = new CancellationTokenSource();
            long start = Stopwatch.GetTimestamp();
            Task[] guests = vms.Select((_, i) => GuestAsync(i, interval * i / vms.Length, interval, stop.Token)).ToArray();
            await Task.Delay(warmup);
            TimeSpan[] cpu0 = replicas.Select(r => r.CpuTime).ToArray();
            long done0 = Interlocked.Read(ref _done);
            _measuring = true;
            long t0 = Stopwatch.GetTimestamp();
            int maxConnections = 0;
            while (Stopwatch.GetElapsedTime(t0) < duration)
            {
                await Task.Delay(TimeSpan.FromSeconds(5));
                maxConnections = Math.Max(maxConnections, connections());
            }

            _measuring = false;
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            long attestations = Interlocked.Read(ref _done) - done0;
            double[] cpu = replicas.Select((r, i) => (r.CpuTime - cpu0[i]).TotalMicroseconds / Math.Max(1, attestations)).ToArray();
            await stop.CancelAsync();
            await Task.WhenAll(guests);
            double[] sorted;
            lock (_latencies)
                sorted = _latencies.Order().ToArray();
            return new Measurement(replicas.Count, vms.Length, vms.Length / interval.TotalSeconds, attestations / seconds, attestations,
                Interlocked.Read(ref _failures), Percentile(sorted, 0.50), Percentile(sorted, 0.99), cpu, maxConnections, _firstFailure);
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
            Guid vm = vms[index];
            long n = Interlocked.Increment(ref _next);
            TlServerProcess challenger = replicas[(int)(n % replicas.Count)];
            TlServerProcess verifier = replicas[(int)((n + 1) % replicas.Count)];
            try
            {
                long a = Stopwatch.GetTimestamp();
                using HttpResponseMessage challenge = await client.PostAsync(new Uri(challenger.Address, $"/v1/vms/{vm}/challenges"), null, stop);
                await Expect(challenge, HttpStatusCode.Created);
                using JsonDocument issued = JsonDocument.Parse(await challenge.Content.ReadAsStreamAsync(stop));
                byte[] nonce = Convert.FromBase64String(issued.RootElement.GetProperty("nonce").GetString()!);
                double challengeMs = Stopwatch.GetElapsedTime(a).TotalMilliseconds;

                // The guest's work: a genuine quote over the nonce (one TPM, serialised; not counted in the latency).
                AttestationEvidence evidence = await Task.Run(() => factory.Attest(log, nonce, certificates[index]) with { VmId = vm.ToString() }, stop);
                using var content = new ByteArrayContent(EvidenceJson.Serialize(evidence));
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                long b = Stopwatch.GetTimestamp();
                using HttpResponseMessage verdict = await client.PostAsync(new Uri(verifier.Address, $"/v1/vms/{vm}/attestations"), content, stop);
                await Expect(verdict, HttpStatusCode.OK);
                double evidenceMs = Stopwatch.GetElapsedTime(b).TotalMilliseconds;
                Interlocked.Increment(ref _done);
                if (_measuring)
                {
                    lock (_latencies)
                        _latencies.Add(challengeMs + evidenceMs);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
#pragma warning disable CA1031 // every failure of a guest's attestation is counted, whatever it is
            catch (Exception e)
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
}
