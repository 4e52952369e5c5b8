using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.Testing;

namespace TrustedLaunch.HostAgent.Tests.Vms;

/// <summary>The console tail a host reports: readable lines, the guest's event-log dump left out.</summary>
public sealed class ConsoleTailTests
{
    [Fact]
    public void Read_EscapesAndEventLogDumpLeftOut()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory("tl-console-tail"), "console.log");
        File.WriteAllText(path,
            "\u001b[2J\u001b[1;1HBdsDxe: loading Boot0001\r\nTL-GUEST: event-log-gzip-base64-begin\nH4sIAAAAAAAA\nTL-GUEST: event-log-gzip-base64-end\nTL-GUEST: booted\n");

        string tail = ConsoleTail.Read(path)!;

        Assert.Equal("BdsDxe: loading Boot0001\nTL-GUEST: booted\n", tail);
    }

    [Fact]
    public void Read_NoFile_Null() => Assert.Null(ConsoleTail.Read(Path.Combine(RepositoryPaths.NewTempDirectory("tl-console-tail"), "none.log")));
}
