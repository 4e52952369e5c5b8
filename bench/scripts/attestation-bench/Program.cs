using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(TrustedLaunch.Benchmarks.Attestation.AttestationVerifierBenchmarks).Assembly).Run(args);
