using BenchmarkDotNet.Running;
using TrustedLaunch.Benchmarks.Posture;

// Run: dotnet run -c Release --project bench/TrustedLaunch.Benchmarks -- --filter '*EventLog*'
// CPU-time measurements that BenchmarkDotNet's wall clock cannot make on a busy machine: -- posture-cpu (PostureCpu).
if (args.Length > 0 && args[0] == PostureCpu.Command)
    return PostureCpu.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
