using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server;

/// <summary>
/// The AK CA each VM's evidence must chain to: the PEM stored with its registration, else the service-wide platform CA
/// (<c>tl server --ca</c>). Parsed collections are cached by PEM text, so a re-registration with another CA takes
/// effect at once.
/// </summary>
public sealed class ServiceTrust
{
    private readonly string? _defaultPem;
    private readonly ConcurrentDictionary<string, X509Certificate2Collection> _parsed = new(StringComparer.Ordinal);

    public ServiceTrust(string? caDirectory)
    {
        _defaultPem = caDirectory is null ? null : TrustAnchors.ReadCaDirectoryPem(caDirectory);
    }

    /// <summary>True when a service-wide CA was configured.</summary>
    public bool HasDefaultCa => _defaultPem is not null;

    /// <exception cref="TrustAnchorException">The VM has no CA and the service has none either, or its PEM is bad.</exception>
    public X509Certificate2Collection AkCaFor(RegisteredVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        string pem = vm.AkCaCertificatesPem ?? _defaultPem
            ?? throw new TrustAnchorException($"VM {vm.VmId} was registered without an AK CA and the service runs without --ca.");
        return _parsed.GetOrAdd(pem, TrustAnchors.Parse);
    }
}
