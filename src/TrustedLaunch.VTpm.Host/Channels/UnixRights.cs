using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace TrustedLaunch.VTpm.Host.Channels;

/// <summary>
/// recvmsg(2) with room for one SCM_RIGHTS file descriptor: QEMU hands the data channel over the control socket
/// this way (CMD_SET_DATAFD, vtpm.md §2.5). .NET sockets cannot receive ancillary data, hence the P/Invoke.
/// Layouts are Linux x86-64/arm64 (LP64): msghdr 56 bytes, cmsghdr 16 bytes.
/// </summary>
internal static unsafe partial class UnixRights
{
    private const int SolSocket = 1;
    private const int ScmRights = 1;
    private const int MsgCmsgCloexec = 0x40000000;

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVector
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>Receives bytes into <paramref name="buffer"/>; an fd that came along is returned in <paramref name="fd"/> (else -1).</summary>
    /// <returns>Bytes read; 0 at end of stream.</returns>
    public static int Receive(Socket socket, Span<byte> buffer, out int fd)
    {
        fd = -1;
        const int controlSize = 24; // CMSG_SPACE(sizeof(int)) = 16 + 8
        byte* control = stackalloc byte[controlSize];
        new Span<byte>(control, controlSize).Clear();
        fixed (byte* data = buffer)
        {
            var vector = new IoVector { Base = data, Length = (nuint)buffer.Length };
            var header = new MessageHeader { Vectors = &vector, VectorCount = 1, Control = control, ControlLength = controlSize };
            nint received;
            bool addRef = false;
            socket.SafeHandle.DangerousAddRef(ref addRef);
            try
            {
                do
                {
                    received = RecvMsg((int)socket.SafeHandle.DangerousGetHandle(), &header, MsgCmsgCloexec);
                }
                while (received < 0 && Marshal.GetLastPInvokeError() == 4); // EINTR
            }
            finally
            {
                if (addRef)
                    socket.SafeHandle.DangerousRelease();
            }

            if (received < 0)
                throw new SocketException(Marshal.GetLastPInvokeError());
            if (header.ControlLength >= 20)
            {
                nuint length = *(nuint*)control;
                int level = *(int*)(control + 8);
                int type = *(int*)(control + 12);
                if (level == SolSocket && type == ScmRights && length >= 20)
                    fd = *(int*)(control + 16);
            }

            return (int)received;
        }
    }

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint RecvMsg(int socket, MessageHeader* message, int flags);
}
