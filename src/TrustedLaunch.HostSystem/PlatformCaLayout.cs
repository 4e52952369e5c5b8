namespace TrustedLaunch.HostSystem;

/// <summary>
/// The platform CA folder that <c>tl ca init</c> writes: one PEM certificate <c>NAME.crt</c> and one PKCS#8 key
/// <c>NAME.key</c> (mode 0600) per authority — the root, the vTPM EK CA and the vTPM AK CA. Verifiers read only the
/// AK CA's and the root's certificates.
/// </summary>
public static class PlatformCaLayout
{
    /// <summary>The root CA, issuer of both vTPM CAs.</summary>
    public const string RootName = "root-ca";

    /// <summary>The CA that certifies vTPM endorsement keys.</summary>
    public const string EndorsementKeyCaName = "vtpm-ek-ca";

    /// <summary>The CA that certifies vTPM attestation keys.</summary>
    public const string AttestationKeyCaName = "vtpm-ak-ca";

    /// <summary>Every authority of the folder, root first.</summary>
    public static IReadOnlyList<string> Authorities { get; } = [RootName, EndorsementKeyCaName, AttestationKeyCaName];

    /// <summary>The authorities whose certificates an AK certificate is verified against: the AK CA, then the root.</summary>
    public static IReadOnlyList<string> VerifierAuthorities { get; } = [AttestationKeyCaName, RootName];

    /// <summary><c>DIR/NAME.crt</c>.</summary>
    public static string CertificatePath(string directory, string name) => Path.Combine(directory, name + ".crt");

    /// <summary><c>DIR/NAME.key</c>.</summary>
    public static string KeyPath(string directory, string name) => Path.Combine(directory, name + ".key");
}
