namespace TrustedLaunch.Runtime.Qemu;

/// <summary>
/// One user-mode (slirp) virtio NIC: its MAC (<c>00:0d:3a:12:34:56</c>), optionally the guest's address network
/// (<c>10.1.0.0/24</c>) and the address its DHCP hands out, and the host ports forwarded to guest TCP ports.
/// </summary>
public sealed record QemuNic(string MacAddress, IReadOnlyList<QemuHostForward> HostForwards)
{
    /// <summary>The slirp network (an IPv4 CIDR); null keeps QEMU's 10.0.2.0/24.</summary>
    public string? Network { get; init; }

    /// <summary>The address the guest's DHCP gets (inside <see cref="Network"/>).</summary>
    public string? GuestAddress { get; init; }
}

/// <summary><c>hostfwd=tcp:HostAddress:HostPort-:GuestPort</c>.</summary>
public sealed record QemuHostForward(string HostAddress, int HostPort, int GuestPort);
