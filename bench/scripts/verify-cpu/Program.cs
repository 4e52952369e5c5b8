using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Testing;

// Verifies the golden genuine bundle (tests/TrustedLaunch.Cli.Tests/Attest/Golden) N times per round and prints, per
// verification, the process CPU time and the bytes allocated: both depend far less on what else the machine runs
// than wall-clock time does, so two commits can be compared on a busy host (run each a few times, alternating).
// Usage: dotnet run -c Release --project bench/scripts/verify-cpu [-- ROUNDS [N]]
int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
int n = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20_000;
string golden = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "TrustedLaunch.Cli.Tests", "Attest", "Golden");
AttestationEvidence evidence = EvidenceJson.Parse(File.ReadAllBytes(Path.Combine(golden, "evidence-sb.json")));
var expectations = new AttestationExpectations
{
    VmId = Guid.Parse(File.ReadAllText(Path.Combine(golden, "vm-id.txt")).Trim()),
    Nonce = Convert.FromHexString("7f3a9c1e5b2d4f6081a3c5e7092b4d6f8193a5c7e9fb1d3f5577991133557799"),
    AkCaCertificates =
    [
        X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(golden, "ca", "vtpm-ak-ca.crt"))),
        X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(golden, "ca", "root-ca.crt"))),
    ],
};
var verifier = new AttestationVerifier(TimeProvider.System, new VerificationCaches()); // as tl server runs it
AttestationResult first = verifier.Verify(evidence, expectations);
if (!first.Passed)
    throw new InvalidOperationException($"golden evidence does not verify: {first.Failure}");
for (int i = 0; i < n; i++)
    verifier.Verify(evidence, expectations); // tiered JIT and dynamic PGO settle

var cpu = new List<double>();
long allocated = 0;
using var process = Process.GetCurrentProcess();
for (int r = 0; r < rounds; r++)
{
    process.Refresh();
    TimeSpan cpu0 = process.TotalProcessorTime;
    long bytes0 = GC.GetAllocatedBytesForCurrentThread();
    for (int i = 0; i < n; i++)
        verifier.Verify(evidence, expectations);
    allocated = (GC.GetAllocatedBytesForCurrentThread() - bytes0) / n;
    process.Refresh();
    cpu.Add((process.TotalProcessorTime - cpu0).TotalMicroseconds / n);
}

cpu.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Verify: median {cpu[cpu.Count / 2]:F1} µs CPU (min {cpu[0]:F1}, max {cpu[^1]:F1}) over {rounds} rounds of {n}; {allocated} B allocated per verification"));
