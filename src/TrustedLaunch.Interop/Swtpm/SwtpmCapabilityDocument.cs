using System.Text;

namespace TrustedLaunch.Interop.Swtpm;

/// <summary>
/// What <c>swtpm socket --print-capabilities</c> and <c>swtpm_setup --print-capabilities</c> print, in swtpm's own
/// one-line shape (<c>{ "type": "swtpm", "features": [ … ], "version": "…" }</c>) so libvirt's parser reads it. Only
/// features tl-vtpm really implements are listed; each name is swtpm 0.7's literally (tests compare with the real swtpm).
/// </summary>
public static class SwtpmCapabilityDocument
{
    /// <summary>The swtpm release whose command line and capability names this surface follows.</summary>
    public const string InterfaceVersion = "0.7.1";

    /// <summary>
    /// tpm-2.0 only; <c>flags-opt-startup</c> (--flags startup-*), <c>cmdarg-key-fd</c>/<c>cmdarg-pwd-fd</c> (--key fd=/pwdfd=, which
    /// libvirt needs for <c>&lt;encryption secret=…&gt;</c>), <c>nvram-backend-dir</c> (--tpmstate dir= / backend-uri=dir://).
    /// </summary>
    public static readonly IReadOnlyList<string> SocketFeatures =
        ["tpm-2.0", "flags-opt-startup", "cmdarg-key-fd", "cmdarg-pwd-fd", "nvram-backend-dir"];

    /// <summary>
    /// tpm-2.0 only; key and passphrase fds (libvirt passes <c>--pwdfile-fd</c> for an encrypted TPM), EK certificate files,
    /// RSA-2048 EKs, and <c>--reconfigure --pcr-banks</c> (libvirt then honours a changed <c>&lt;active_pcr_banks&gt;</c> on an existing TPM).
    /// </summary>
    public static readonly IReadOnlyList<string> SetupFeatures =
        ["tpm-2.0", "cmdarg-keyfile-fd", "cmdarg-pwdfile-fd", "cmdarg-write-ek-cert-files", "tpm2-rsa-keysize-2048", "cmdarg-reconfigure-pcr-banks"];

    public static string Socket(string tlVersion) => Render("swtpm", SocketFeatures, tlVersion);

    public static string Setup(string tlVersion) => Render("swtpm_setup", SetupFeatures, tlVersion);

    private static string Render(string type, IReadOnlyList<string> features, string tlVersion)
    {
        var text = new StringBuilder();
        text.Append("{ \"type\": \"").Append(type).Append("\", \"features\": [ ");
        text.AppendJoin(", ", features.Select(f => $"\"{f}\""));
        // Our addition sits in its own member: libvirt reads "type" and "features" only.
        text.Append(" ], \"version\": \"").Append(InterfaceVersion).Append("\", \"tl-vtpm\": { \"version\": \"")
            .Append(tlVersion.Replace("\"", "", StringComparison.Ordinal)).Append("\" } }");
        return text.ToString();
    }
}
