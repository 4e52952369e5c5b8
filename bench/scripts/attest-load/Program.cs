using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.AttestLoad;
using TrustedLaunch.Bench;

// attest-load [--tl PATH/tl.dll] [--attestations N] [--concurrency 1,4,16] [--runs R] [--json FILE] [--in-process]
// Starts `tl server` as its own process on a free loopback port, registers the swtpm-backed VM, then per concurrency
// level and run: N challenges (timed), N TPM2_Quotes by swtpm (untimed: in production each guest quotes for itself),
// N evidence POSTs (timed). attestations/s = N / (challenge phase + evidence phase) of wall-clock time.
Options options = Options.Parse(args);
using var factory = new GenuineEvidenceFactory();
var verifier = new TrustedLaunch.Attestation.AttestationVerifier(TimeProvider.System, new TrustedLaunch.Attestation.VerificationCaches());
byte[] log = GenuineEvidenceFactory.CaptureLog("ovmf4m-ms-sb-crb");
if (options.InProcess)
{
    // The same work without HTTP or SQLite: parse + verify (+ baseline compare) + token signing, one thread.
    byte[] nonce = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
    byte[] body = EvidenceJson.Serialize(factory.Attest(log, nonce));
    var expect = factory.Expect(nonce);
    var learned = TrustedLaunch.Attestation.AttestationBaseline.Learn(verifier.Verify(EvidenceJson.Parse(body), expect));
    using var key = TrustedLaunch.Attestation.TokenSigningKey.Create();
    var issuer = new TrustedLaunch.Attestation.AttestationTokenIssuer(key, "http://127.0.0.1", TimeProvider.System);
    // Untimed warm-up: tiered JIT with dynamic PGO takes thousands of calls to reach its final code, which a
    // long-running service reaches once and keeps.
    for (int i = 0; i < 5000; i++)
        issuer.Issue(verifier.Verify(EvidenceJson.Parse(body), expect with { Baseline = learned }), factory.VmId);
    for (int round = 0; round < 3; round++)
    {
        long t0 = Stopwatch.GetTimestamp();
        double parse = 0, verify = 0, sign = 0;
        for (int i = 0; i < options.Attestations; i++)
        {
            long a = Stopwatch.GetTimestamp();
            AttestationEvidence e = EvidenceJson.Parse(body);
            long b = Stopwatch.GetTimestamp();
            var r = verifier.Verify(e, expect with { Baseline = learned });
            long c = Stopwatch.GetTimestamp();
            issuer.Issue(r, factory.VmId);
            long d = Stopwatch.GetTimestamp();
            parse += Stopwatch.GetElapsedTime(a, b).TotalMilliseconds;
            verify += Stopwatch.GetElapsedTime(b, c).TotalMilliseconds;
            sign += Stopwatch.GetElapsedTime(c, d).TotalMilliseconds;
        }

        double total = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"in-process: {options.Attestations / total:F0}/s; per attestation parse {parse / options.Attestations:F3} ms, verify {verify / options.Attestations:F3} ms, token {sign / options.Attestations:F3} ms"));
    }

    return 0;
}

string data = Path.Combine(Path.GetTempPath(), $"tl-attest-load-{Guid.NewGuid():N}");
Directory.CreateDirectory(data);
try
{
    TlServerProcess.Tl(options.Tl, "server", "vm", "add", "--data", data, "--vm-id", factory.VmId.ToString(), "--ca", factory.CaDirectory);
    using TlServerProcess server = await TlServerProcess.StartAsync(options.Tl, data);
    using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = server.Address };
    var load = new LoadRun(client, factory, log, () => server.CpuTime);
    await load.RunAsync(1000, 4); // warm-up: tiered JIT/PGO, connection pool, SQLite pages (untimed)
    Console.WriteLine($"tl server {server.Address}; {options.Attestations} attestations per run, {options.Runs} runs per level; " +
        $"evidence {load.EvidenceBytes} bytes; {Environment.ProcessorCount} CPUs shared by server, client and swtpm");
    Console.WriteLine("concurrency | attestations/s (median) | server CPU µs per attestation | challenge p50/p95 ms | evidence p50/p95 ms | challenges/s | evidence/s | quote ms (swtpm, untimed)");
    var rows = new List<object>();
    foreach (int concurrency in options.Concurrency)
    {
        var runs = new List<RunResult>();
        for (int run = 0; run < options.Runs; run++)
            runs.Add(await load.RunAsync(options.Attestations, concurrency));
        RunResult median = runs.OrderBy(r => r.AttestationsPerSecond).ElementAt(runs.Count / 2);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{concurrency,11} | {median.AttestationsPerSecond,23:F0} | {median.ServerCpuMicroseconds,29:F0} | {median.ChallengeP50,9:F2} / {median.ChallengeP95,-8:F2} | {median.EvidenceP50,8:F2} / {median.EvidenceP95,-8:F2} | {median.ChallengesPerSecond,12:F0} | {median.EvidencePerSecond,10:F0} | {median.QuoteMs:F2}"));
        rows.Add(new { concurrency, median, all = runs.Select(r => r.AttestationsPerSecond).ToArray() });
    }

    if (options.Json is string jsonPath)
        await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
    return 0;
}
finally
{
    Directory.Delete(data, recursive: true);
}

namespace TrustedLaunch.AttestLoad
{
    internal sealed record Options(string Tl, int Attestations, int[] Concurrency, int Runs, string? Json, bool InProcess = false)
    {
        public static Options Parse(string[] args)
        {
            string root = AppContext.BaseDirectory;
            while (!File.Exists(Path.Combine(root, "TrustedLaunch.slnx")))
                root = Path.GetDirectoryName(root.TrimEnd('/')) ?? throw new InvalidOperationException("run inside the repository");
            var o = new Options(Path.Combine(root, "src/TrustedLaunch.Cli/bin/Release/net10.0/tl.dll"), 400, [1, 4, 16, 64], 3, null);
            if (args.Contains("--in-process"))
            {
                o = o with { InProcess = true };
                args = args.Where(a => a != "--in-process").ToArray();
            }

            for (int i = 0; i + 1 < args.Length; i += 2)
            {
                o = args[i] switch
                {
                    "--tl" => o with { Tl = args[i + 1] },
                    "--attestations" => o with { Attestations = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                    "--concurrency" => o with { Concurrency = args[i + 1].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray() },
                    "--runs" => o with { Runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                    "--json" => o with { Json = args[i + 1] },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }

            return o;
        }
    }

    internal sealed record RunResult(double AttestationsPerSecond, double ServerCpuMicroseconds, double ChallengesPerSecond, double EvidencePerSecond,
        double ChallengeP50, double ChallengeP95, double EvidenceP50, double EvidenceP95, double QuoteMs);

    // serverCpu: the server process's user + system CPU so far; its growth over the two timed phases, per attestation, is
    // the service's cost that a shared machine does not blur (the client and swtpm run elsewhere in the CPU accounting).
    internal sealed class LoadRun(HttpClient client, GenuineEvidenceFactory factory, byte[] log, Func<TimeSpan> serverCpu)
    {
        public int EvidenceBytes { get; private set; }

        public async Task<RunResult> RunAsync(int count, int concurrency)
        {
            var challengeMs = new double[count];
            var nonces = new byte[count][];
            TimeSpan cpuBeforeChallenges = serverCpu();
            double challengeSeconds = await ParallelAsync(count, concurrency, async i =>
            {
                long start = Stopwatch.GetTimestamp();
                using HttpResponseMessage response = await client.PostAsync($"/v1/vms/{factory.VmId}/challenges", null);
                Expect(response, HttpStatusCode.Created);
                using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
                nonces[i] = Convert.FromBase64String(body.RootElement.GetProperty("nonce").GetString()!);
                challengeMs[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            });

            TimeSpan challengeCpu = serverCpu() - cpuBeforeChallenges;
            long quoteStart = Stopwatch.GetTimestamp();
            byte[][] bodies = nonces.Select(n => EvidenceJson.Serialize(factory.Attest(log, n))).ToArray();
            double quoteMs = Stopwatch.GetElapsedTime(quoteStart).TotalMilliseconds / count;
            EvidenceBytes = bodies[0].Length;

            var evidenceMs = new double[count];
            TimeSpan cpuBeforeEvidence = serverCpu();
            double evidenceSeconds = await ParallelAsync(count, concurrency, async i =>
            {
                long start = Stopwatch.GetTimestamp();
                using var content = new ByteArrayContent(bodies[i]);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                using HttpResponseMessage response = await client.PostAsync($"/v1/vms/{factory.VmId}/attestations", content);
                Expect(response, HttpStatusCode.OK);
                evidenceMs[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            });

            double cpuMicroseconds = (challengeCpu + (serverCpu() - cpuBeforeEvidence)).TotalMicroseconds / count;
            return new RunResult(count / (challengeSeconds + evidenceSeconds), cpuMicroseconds, count / challengeSeconds, count / evidenceSeconds,
                Percentile(challengeMs, 0.50), Percentile(challengeMs, 0.95), Percentile(evidenceMs, 0.50), Percentile(evidenceMs, 0.95), quoteMs);
        }

        private static void Expect(HttpResponseMessage response, HttpStatusCode status)
        {
            if (response.StatusCode != status)
                throw new InvalidOperationException($"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {response.Content.ReadAsStringAsync().Result}");
        }

        private static async Task<double> ParallelAsync(int count, int concurrency, Func<int, Task> work)
        {
            int next = -1;
            long start = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                    await work(i);
            }));
            return Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        private static double Percentile(double[] values, double p)
        {
            double[] sorted = values.Order().ToArray();
            return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        }
    }
}
