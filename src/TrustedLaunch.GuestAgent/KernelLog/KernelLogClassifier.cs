namespace TrustedLaunch.GuestAgent.KernelLog;

/// <summary>What a kernel log line says about module integrity or lockdown.</summary>
public enum KernelEventKind
{
    /// <summary>A module load refused for its signature; the kernel does not name the module (see <see cref="KernelLogClassifier"/>).</summary>
    ModuleRejected,

    /// <summary>A module without a valid signature was loaded and tainted the kernel; named.</summary>
    ModuleUnsignedLoaded,

    /// <summary>Another taint-on-load message (out-of-tree, licence, staging); named.</summary>
    ModuleTaint,

    /// <summary>Lockdown refused something other than module loading.</summary>
    Lockdown,
}

/// <summary>One classified kernel message.</summary>
public sealed record KernelEvent(KernelEventKind Kind, string? Module, string Detail, string Line);

/// <summary>
/// Recognizes the kernel's own messages (Linux 6.1, verified against the strings of Debian's linux-image-6.1.0-56):
/// <list type="bullet">
/// <item>kernel/module/signing.c <c>module_sig_check</c>: <c>"Loading of %s is rejected"</c> with reason "unsigned module",
/// "module with unavailable key", "module with unsupported crypto" — only when sig_enforce is set;</item>
/// <item>security/lockdown/lockdown.c: <c>"Lockdown: %s: %s is restricted; see man kernel_lockdown.7"</c> (comm, reason);
/// reason "unsigned module loading" is the same refusal under Secure Boot lockdown without sig_enforce;</item>
/// <item>kernel/module/signing.c (taint path): <c>"%s: module verification failed: signature and/or required key missing - tainting kernel"</c>;</item>
/// <item>kernel/module/main.c: <c>"%s: loading out-of-tree module taints kernel."</c>, <c>"%s: module license '%s' taints kernel."</c>,
/// <c>"%s: module is from the staging directory, the quality is unknown, you have been warned."</c>.</item>
/// </list>
/// The refusal messages carry no module name: module_sig_check runs before the ELF image is even parsed, so the kernel
/// does not know it yet. <see cref="ModuleRejectionResolver"/> names the module from IMA's MODULE_CHECK measurement.
/// </summary>
public static class KernelLogClassifier
{
    private const string LockdownPrefix = "Lockdown: ";
    private const string LockdownSuffix = " is restricted; see man kernel_lockdown.7";
    private const string ModuleLoadingReason = "unsigned module loading";
    private const string RejectedPrefix = "Loading of ";
    private const string RejectedSuffix = " is rejected";
    private const string VerificationFailed = ": module verification failed: signature and/or required key missing - tainting kernel";
    private const string OutOfTree = ": loading out-of-tree module taints kernel.";
    private const string LicenseTaint = " taints kernel.";
    private const string LicenseMarker = ": module license '";
    private const string Staging = ": module is from the staging directory";

    public static KernelEvent? Classify(KernelLogRecord record)
    {
        if (!record.FromKernel)
            return null; // user space can write anything to /dev/kmsg; only facility 0 is the kernel
        string line = record.Message;
        if (line.StartsWith(RejectedPrefix, StringComparison.Ordinal) && line.EndsWith(RejectedSuffix, StringComparison.Ordinal))
        {
            string reason = line[RejectedPrefix.Length..^RejectedSuffix.Length];
            return new KernelEvent(KernelEventKind.ModuleRejected, null, reason, line);
        }

        if (line.StartsWith(LockdownPrefix, StringComparison.Ordinal) && line.EndsWith(LockdownSuffix, StringComparison.Ordinal))
        {
            string body = line[LockdownPrefix.Length..^LockdownSuffix.Length]; // "comm: reason"
            int colon = body.IndexOf(": ", StringComparison.Ordinal);
            string comm = colon < 0 ? "" : body[..colon];
            string reason = colon < 0 ? body : body[(colon + 2)..];
            // The kernel's own init task noting a feature lockdown disables (hibernation at every Secure Boot start)
            // is configuration, not something a program attempted.
            if (comm.StartsWith("swapper/", StringComparison.Ordinal))
                return null;
            return reason == ModuleLoadingReason
                ? new KernelEvent(KernelEventKind.ModuleRejected, null, reason, line)
                : new KernelEvent(KernelEventKind.Lockdown, null, reason, line);
        }

        if (line.EndsWith(VerificationFailed, StringComparison.Ordinal))
            return Named(KernelEventKind.ModuleUnsignedLoaded, line, line.Length - VerificationFailed.Length, "signature and/or required key missing");
        if (line.EndsWith(OutOfTree, StringComparison.Ordinal))
            return Named(KernelEventKind.ModuleTaint, line, line.Length - OutOfTree.Length, "out-of-tree module");
        int license = line.IndexOf(LicenseMarker, StringComparison.Ordinal);
        if (license > 0 && line.EndsWith(LicenseTaint, StringComparison.Ordinal))
            return Named(KernelEventKind.ModuleTaint, line, license, "non-GPL-compatible licence");
        int staging = line.IndexOf(Staging, StringComparison.Ordinal);
        if (staging > 0)
            return Named(KernelEventKind.ModuleTaint, line, staging, "staging driver");
        return null;
    }

    private static KernelEvent? Named(KernelEventKind kind, string line, int nameEnd, string detail)
    {
        string name = line[..nameEnd];
        return name.Length == 0 || name.Contains(' ', StringComparison.Ordinal) ? null : new KernelEvent(kind, name, detail, line);
    }
}
