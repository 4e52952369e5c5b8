using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using TrustedLaunch.Testing;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.Vmgs.Tests;

[IntegrationTest]
public class VmgsKillTests
{
    [Fact]
    public void WriterProcess_SigkilledHundredTimes_FileAlwaysOpensWithLastOrNextState()
    {
        string dir = RepositoryPaths.NewTempDirectory("vmgs-kill");
        string path = Path.Combine(dir, "vm.vmgs"), keyPath = Path.Combine(dir, "host.kek");
        using var kek = VmgsKeyEncryptionKey.Generate(keyPath);
        VmgsFile.Create(path, kek).Dispose();
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? ExternalTool.Require("dotnet");
        string self = typeof(CrashWriterProgram).Assembly.Location;
        var random = new Random(1234);
        ulong lastDurable = 0;
        for (int kill = 0; kill < 100; kill++)
        {
            var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in new[] { self, "crash-writer", path, keyPath })
                psi.ArgumentList.Add(a);
            using var child = Process.Start(psi)!;
            var lines = new List<ulong>();
            var firstLine = new ManualResetEventSlim();
            child.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { Length: > 0 } line)
                {
                    lock (lines)
                        lines.Add(ulong.Parse(line, CultureInfo.InvariantCulture));
                    firstLine.Set();
                }
            };
            child.BeginOutputReadLine();
            if (!firstLine.Wait(TimeSpan.FromSeconds(30)))
            {
                child.Kill();
                Assert.Fail($"kill {kill}: the writer never committed: {child.StandardError.ReadToEnd()}");
            }

            Thread.Sleep(random.Next(0, 15));
            child.Kill(); // SIGKILL
            child.WaitForExit();
            ulong printed;
            lock (lines)
                printed = lines.Max();
            Assert.True(printed > lastDurable, $"kill {kill}: the writer did not advance");

            using var reopened = VmgsFile.Open(path, kek, writable: false);
            byte[] state = reopened.ReadEntry(VmgsEntryId.VTpmState)!;
            ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(state);
            // Printed means durable; one more write may have committed between its fsync and the print.
            Assert.True(stored == printed || stored == printed + 1, $"kill {kill}: stored state {stored}, last printed {printed}");
            Assert.Equal(CrashWriterProgram.State(stored), state);
            lastDurable = stored;
        }

        Assert.True(lastDurable >= 100, $"only {lastDurable} states were written in 100 runs");
    }
}
