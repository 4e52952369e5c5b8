using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace TrustedLaunch.ControlPlane.Network;

/// <summary>An IPv4 or IPv6 CIDR prefix (<c>10.1.0.0/16</c>), canonical: no bits set past the prefix length, as Azure requires.</summary>
public readonly record struct AddressPrefix(IPAddress Network, int Length)
{
    private int Bits => Network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;

    /// <summary>Parses <paramref name="text"/>; <paramref name="canonical"/> is what a non-canonical prefix should have been.</summary>
    public static bool TryParse(string? text, out AddressPrefix prefix, out string? canonical)
    {
        prefix = default;
        canonical = null;
        string[] parts = text?.Split('/') ?? [];
        if (parts.Length != 2 || !IPAddress.TryParse(parts[0], out IPAddress? address)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int length)
            || address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            || length > (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
            || (address.AddressFamily == AddressFamily.InterNetwork && parts[0].Count(c => c == '.') != 3))
            return false;
        var masked = new AddressPrefix(FromNumber(ToNumber(address) & Mask(length, address.AddressFamily), address.AddressFamily), length);
        if (!masked.Network.Equals(address))
        {
            canonical = masked.ToString();
            return false;
        }

        prefix = masked;
        return true;
    }

    public bool Contains(AddressPrefix other) =>
        other.Network.AddressFamily == Network.AddressFamily && other.Length >= Length
        && (ToNumber(other.Network) & Mask(Length, Network.AddressFamily)) == ToNumber(Network);

    public bool Overlaps(AddressPrefix other) => Contains(other) || other.Contains(this);

    /// <summary>The address <paramref name="offset"/> hosts into the prefix (Azure gives VMs .4 onward: .0-.3 are its own).</summary>
    public IPAddress Host(int offset) => FromNumber(ToNumber(Network) + offset, Network.AddressFamily);

    public BigInteger Size => BigInteger.One << (Bits - Length);

    public override string ToString() => $"{Network}/{Length.ToString(CultureInfo.InvariantCulture)}";

    private static BigInteger ToNumber(IPAddress address) => new(address.GetAddressBytes(), isUnsigned: true, isBigEndian: true);

    private static IPAddress FromNumber(BigInteger value, AddressFamily family)
    {
        int size = family == AddressFamily.InterNetwork ? 4 : 16;
        byte[] bytes = new byte[size];
        byte[] raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        raw.AsSpan(Math.Max(0, raw.Length - size)).CopyTo(bytes.AsSpan(Math.Max(0, size - raw.Length)));
        return new IPAddress(bytes);
    }

    private static BigInteger Mask(int length, AddressFamily family)
    {
        int bits = family == AddressFamily.InterNetwork ? 32 : 128;
        BigInteger all = (BigInteger.One << bits) - 1;
        return all ^ ((BigInteger.One << (bits - length)) - 1);
    }
}
