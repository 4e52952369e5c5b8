using System.Diagnostics;
using TrustedLaunch.GuestAgent.Links;
using TrustedLaunch.Testing;

namespace TrustedLaunch.GuestAgent.Tests.Links;

/// <summary>
/// The port stream's non-blocking reads and writes, on a FIFO (the same open/read/write/poll calls as on
/// /dev/virtio-ports/NAME; a real port is exercised by the boot tests): a write that cannot proceed — a virtio port
/// with no host — ends at the session's cancellation instead of holding the file open in the kernel.
/// </summary>
public sealed class VirtioPortStreamTests : IDisposable
{
    private readonly string _directory = RepositoryPaths.NewTempDirectory("tl-port");
    private readonly string _fifo;

    public VirtioPortStreamTests()
    {
        _fifo = Path.Combine(_directory, "port");
        using var mkfifo = Process.Start("mkfifo", _fifo);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private VirtioPortStream Open() => VirtioPortStream.TryOpen(_fifo, out string? failure) ?? throw new InvalidOperationException(failure);

    [Fact]
    public async Task WriteThenRead_RoundTripsTheBytes()
    {
        await using VirtioPortStream port = Open();
        byte[] frame = [0, 0, 0, 3, (byte)'a', (byte)'b', (byte)'c'];
        await port.WriteAsync(frame);
        var back = new byte[frame.Length];
        Assert.Equal(frame.Length, await port.ReadAsync(back));
        Assert.Equal(frame, back);
    }

    [Fact]
    public async Task ReadAsync_NothingToRead_EndsAtCancellation()
    {
        await using VirtioPortStream port = Open();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await port.ReadAtLeastAsync(new byte[16], 1, cancellationToken: cancel.Token));
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task WriteAsync_CannotProceed_EndsAtCancellationAndTheFileCloses()
    {
        VirtioPortStream port = Open();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var watch = Stopwatch.StartNew();
        // More than a pipe holds (64 KiB) and nobody reads: the write can never finish, as on a port with no host.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await port.WriteAsync(new byte[1 << 20], cancel.Token));
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(5));
        await port.DisposeAsync();

        // Nothing holds the descriptor any more: the FIFO opens again and is empty of the session's writes once drained.
        await using VirtioPortStream again = Open();
        Assert.True(again.HostPresent(out string? absent), absent);
    }

    [Fact]
    public void TryOpen_NoSuchPort_NamesTheErrno()
    {
        Assert.Null(VirtioPortStream.TryOpen(Path.Combine(_directory, "absent"), out string? failure));
        Assert.Contains("errno 2", failure, StringComparison.Ordinal);
    }
}
