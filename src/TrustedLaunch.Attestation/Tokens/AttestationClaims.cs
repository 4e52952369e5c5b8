namespace TrustedLaunch.Attestation;

/// <summary>
/// Claim names in attestation tokens: the Azure Attestation <c>azurevm</c> vocabulary (attestation.md §3.1) where
/// the meaning is the same, and <c>x-tl-*</c> for what Azure has no name for.
/// </summary>
public static class AttestationClaims
{
    /// <summary>Issuer (RFC 7519 §4.1.1).</summary>
    public const string Issuer = "iss";

    /// <summary>Issued at.</summary>
    public const string IssuedAt = "iat";

    /// <summary>Not before.</summary>
    public const string NotBefore = "nbf";

    /// <summary>Expiry (iat + 8 h).</summary>
    public const string Expiry = "exp";

    /// <summary>Unique token id.</summary>
    public const string TokenId = "jti";

    /// <summary>Secure Boot was on (PCR 7 SecureBoot = 1).</summary>
    public const string SecureBoot = "secureboot";

    /// <summary>Always <c>azurevm</c>: the token describes a VM with a vTPM.</summary>
    public const string AttestationType = "x-ms-attestation-type";

    /// <summary>Protocol version of the evidence.</summary>
    public const string ProtocolVersion = "x-ms-azurevm-attestation-protocol-ver";

    /// <summary>The VM id the AK certificate proved.</summary>
    public const string VmId = "x-ms-azurevm-vmid";

    /// <summary>
    /// RFC 7800 §3.1 confirmation: for a token bound to the vTPM, <c>{jwk}</c> (§3.2) is the PCR-bound key it was
    /// encrypted to, so a relying party can ask the VM to prove possession of that key (and knows whose token it is).
    /// </summary>
    public const string Confirmation = "cnf";

    /// <summary>PCR indices quoted in every bank and replayed.</summary>
    public const string AttestedPcrs = "x-ms-azurevm-attested-pcrs";

    /// <summary>db was measured and admitted the boot chain.</summary>
    public const string DbValidated = "x-ms-azurevm-dbvalidated";

    /// <summary>dbx was measured and not empty.</summary>
    public const string DbxValidated = "x-ms-azurevm-dbxvalidated";

    /// <summary>KEK and db are the Microsoft defaults.</summary>
    public const string DefaultSecureBootKeysValidated = "x-ms-azurevm-default-securebootkeysvalidated";

    /// <summary>A measured kernel argument enables a kernel debugger; absent when nothing measured can tell.</summary>
    public const string KernelDebugEnabled = "x-ms-azurevm-kerneldebug-enabled";

    /// <summary>UEFI debug mode was logged.</summary>
    public const string BootDebugEnabled = "x-ms-azurevm-bootdebug-enabled";

    /// <summary>Whether the OS is Windows (false: a Linux boot chain was measured).</summary>
    public const string IsWindows = "x-ms-azurevm-is-windows";

    /// <summary>OS distribution as the guest reports it (os-release ID).</summary>
    /// <summary>An early-launch anti-malware driver was measured (Windows).</summary>
    public const string ElamEnabled = "x-ms-azurevm-elam-enabled";

    /// <summary>The measured HVCI policy (VBS_HVCI_POLICY; 0 when none was measured).</summary>
    public const string HvciPolicy = "x-ms-azurevm-hvci-policy";

    /// <summary>Hypervisor debugging was enabled (Windows; absent when not measured).</summary>
    public const string HypervisorDebugEnabled = "x-ms-azurevm-hypervisordebug-enabled";

    /// <summary>Test signing was enabled (Windows; absent when not measured).</summary>
    public const string TestSigningEnabled = "x-ms-azurevm-testsigning-enabled";

    /// <summary>No boot, kernel, hypervisor or firmware debugger was enabled (absent when one of them was not measured).</summary>
    public const string DebuggersDisabled = "x-ms-azurevm-debuggersdisabled";

    /// <summary>Ours: the Windows boot configuration behind the Windows claims (VBS, HVCI, code integrity, BitLocker, ELAM).</summary>
    public const string Windows = "x-tl-windows";

    public const string OsDistro = "x-ms-azurevm-osdistro";

    /// <summary><c>Linux</c> when a Linux kernel command line was measured.</summary>
    public const string OsType = "x-ms-azurevm-ostype";

    /// <summary>Major OS version as the guest reports it.</summary>
    public const string OsVersionMajor = "x-ms-azurevm-osversion-major";

    /// <summary>Minor OS version as the guest reports it.</summary>
    public const string OsVersionMinor = "x-ms-azurevm-osversion-minor";

    /// <summary>Token format version.</summary>
    public const string Version = "x-ms-ver";

    /// <summary>Early-boot baseline verdict: pass, fail or none.</summary>
    public const string BaselineEarly = "x-tl-baseline-early";

    /// <summary>Late-boot baseline verdict: pass, fail or none.</summary>
    public const string BaselineLate = "x-tl-baseline-late";

    /// <summary>
    /// The measured boot chain: per PE image its digest (proven), its name and where the name comes from
    /// (<c>nameSource</c>: <c>devicePath</c> is logged text the digest does not cover), and the authority the log's
    /// order suggests admitted it (<c>inferredAuthority</c>: information, not proof).
    /// </summary>
    public const string BootComponents = "x-tl-boot-components";

    /// <summary>The authorities replayed in PCR 7 after its separator (what admitted boot code): variable, name, sha256.</summary>
    public const string Authorities = "x-tl-authorities";

    /// <summary>
    /// The Secure Boot databases measured into PCR 7: <c>pk</c>, <c>kek</c> and <c>db</c> as lists of
    /// <c>{name, sha256}</c> (a certificate's CN and the SHA-256 of its DER, or a hash), and <c>dbx</c> as
    /// <c>{count, digest}</c>. After a key rollover the next token shows the new keys (docs/secureboot-rollover.md).
    /// </summary>
    public const string SecureBootKeys = "x-tl-secureboot-keys";

    /// <summary>Guest findings (refused or tainting modules, lockdown).</summary>
    public const string Findings = "x-tl-findings";

    /// <summary>The reference policy applied.</summary>
    public const string Policy = "x-tl-policy";

    /// <summary>The measured kernel command line, when exactly one distinct one was measured.</summary>
    public const string KernelCommandLine = "x-tl-kernel-cmdline";

    /// <summary>The <c>x-ms-attestation-type</c> value.</summary>
    public const string AzureVmType = "azurevm";

    /// <summary>Token lifetime, as Azure Attestation issues them.</summary>
    public static TimeSpan Lifetime { get; } = TimeSpan.FromHours(8);
}
