using System.Runtime.InteropServices;

namespace TrustedLaunch.GuestAgent.Links;

/// <summary>
/// A virtio-serial port opened non-blocking, with reads and writes that wait in <c>poll()</c> slices so a session's end
/// (cancellation) always reaches them. Why not a FileStream: drivers/char/virtio_console.c blocks a write while no host
/// program holds the port (port_fops_write → wait_port_writable), and cancellation cannot interrupt a blocked syscall;
/// the file then stays open after the session ends, its late release (port_fops_release → discard_port_data) throws
/// away what QEMU already queued for the next session, and the next open fails with EBUSY until a host returns. Here a
/// write that cannot proceed returns to the session's cancellation every slice, so closing really closes.
/// </summary>
internal sealed partial class VirtioPortStream : Stream
{
    private const int OpenReadWrite = 0x2;
    private const int OpenNonBlock = 0x800;
    private const int OpenCloseOnExec = 0x80000;
    private const int TryAgain = 11; // EAGAIN
    private const int Interrupted = 4; // EINTR
    private const short PollIn = 0x001;
    private const short PollOut = 0x004;
    private const short PollHup = 0x010;
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(200);

    private readonly SafePortHandle _handle;

    private VirtioPortStream(SafePortHandle handle) => _handle = handle;

    /// <summary>Opens the port; the errno and its meaning when it cannot be opened (EBUSY: another file holds it).</summary>
    public static VirtioPortStream? TryOpen(string path, out string? failure)
    {
        var handle = new SafePortHandle(Open(path, OpenReadWrite | OpenNonBlock | OpenCloseOnExec));
        if (handle.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            failure = $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}) opening {path}";
            handle.Dispose();
            return null;
        }

        failure = null;
        return new VirtioPortStream(handle);
    }

    /// <summary>poll() now: whether a host program holds the port and the port takes writes.</summary>
    public bool HostPresent(out string? absent)
    {
        short events = PollOnce(PollIn | PollOut, 0, out int errno);
        absent = events < 0 ? $"poll failed (errno {errno})"
            : (events & PollHup) != 0 ? "no host program on the port"
            : (events & PollOut) == 0 ? "the host does not take what the port holds (port not writable)"
            : null;
        return absent is null;
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        new(Task.Run(() => Read(buffer.Span, cancellationToken), cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        new(Task.Run(() => Write(buffer.Span, cancellationToken), cancellationToken));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count), CancellationToken.None);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count), CancellationToken.None);

    /// <summary>0 when the host end went away (the driver's end of file: no data and no host).</summary>
    private int Read(Span<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long n = Transfer(ref MemoryMarshal.GetReference(buffer), buffer.Length, write: false, out int errno);
            if (n >= 0)
                return (int)n;
            if (errno is not (TryAgain or Interrupted))
                throw new IOException($"read from the virtio port failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
            PollOnce(PollIn, (int)Slice.TotalMilliseconds, out _);
        }
    }

    private void Write(ReadOnlySpan<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long n = Transfer(ref MemoryMarshal.GetReference(buffer), buffer.Length, write: true, out int errno);
            if (n > 0)
            {
                buffer = buffer[(int)n..];
                continue;
            }

            if (n < 0 && errno is not (TryAgain or Interrupted))
                throw new IOException($"write to the virtio port failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
            PollOnce(PollOut, (int)Slice.TotalMilliseconds, out _); // no host yet, or the host has not taken what is queued
        }
    }

    private unsafe long Transfer(ref byte start, int length, bool write, out int errno)
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            fixed (byte* data = &start)
            {
                int fd = (int)_handle.DangerousGetHandle();
                long n = write ? SysWrite(fd, data, (nuint)length) : SysRead(fd, data, (nuint)length);
                errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
                return n;
            }
        }
        finally
        {
            if (added)
                _handle.DangerousRelease();
        }
    }

    private short PollOnce(short events, int timeoutMilliseconds, out int errno)
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            var fd = new PollFd { Descriptor = (int)_handle.DangerousGetHandle(), Events = events };
            int ready = Poll(ref fd, 1, timeoutMilliseconds);
            errno = ready < 0 ? Marshal.GetLastPInvokeError() : 0;
            return ready < 0 ? (short)-1 : fd.ReturnedEvents;
        }
        finally
        {
            if (added)
                _handle.DangerousRelease();
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _handle.Dispose();
        base.Dispose(disposing);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Descriptor;
        public short Events;
        public short ReturnedEvents;
    }

    private sealed class SafePortHandle : Microsoft.Win32.SafeHandles.SafeHandleMinusOneIsInvalid
    {
        public SafePortHandle(int fd)
            : base(ownsHandle: true) => SetHandle(fd);

        protected override bool ReleaseHandle() => CloseDescriptor((int)handle) == 0;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseDescriptor(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial long SysRead(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial long SysWrite(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollFd fds, nuint count, int timeoutMilliseconds);
}
