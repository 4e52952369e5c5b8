using BenchmarkDotNet.Running;

// Run: dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- --filter '*EventLog*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
