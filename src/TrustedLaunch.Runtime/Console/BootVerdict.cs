namespace TrustedLaunch.Runtime.Console;

/// <summary>How a boot ended, as read from the serial console.</summary>
public enum BootOutcome
{
    /// <summary>The guest's init reported itself up (or a login prompt appeared).</summary>
    Booted,

    /// <summary>Secure Boot refused an image: the firmware, shim or GRUB said so.</summary>
    SecureBootViolation,

    /// <summary>The firmware found nothing it could boot.</summary>
    NoBootableDevice,

    /// <summary>None of the above happened in time.</summary>
    Timeout,

    /// <summary>The boot failed otherwise: a kernel panic, GRUB without a configuration, QEMU gone before a verdict.</summary>
    Failed,
}

/// <summary>Who refused an image under Secure Boot.</summary>
public enum RefusingComponent
{
    /// <summary>OVMF's image verification (db/dbx) refused a boot option.</summary>
    Firmware,

    /// <summary>shim refused the second stage it was asked to load (shim's own key, MOK, db/dbx, SBAT).</summary>
    Shim,

    /// <summary>GRUB refused the kernel through shim's verification protocol.</summary>
    Grub,
}

/// <summary>One refusal seen on the console: which image, in whose words.</summary>
public sealed record SecureBootRefusal(RefusingComponent RefusedBy, string Image, string Message);

/// <summary>The verdict of one boot with the evidence for it.</summary>
public sealed record BootVerdict
{
    public required BootOutcome Outcome { get; init; }

    /// <summary>One line for people: what happened and, for a failure, why.</summary>
    public required string Summary { get; init; }

    /// <summary>The first refusal, when <see cref="Outcome"/> is <see cref="BootOutcome.SecureBootViolation"/>.</summary>
    public SecureBootRefusal? Refusal { get; init; }

    /// <summary>How far the boot got before the verdict.</summary>
    public required BootStage Stage { get; init; }

    /// <summary>When the console first showed each stage after the firmware, from launch (empty when the console was not timed).</summary>
    public IReadOnlyList<BootStageReached> StagesReached { get; init; } = [];

    /// <summary>What the guest reported about itself (<c>TL-GUEST: key=value</c> lines): secure-boot, tpm, module-unsigned, agent…</summary>
    public IReadOnlyDictionary<string, string> GuestFacts { get; init; } = new Dictionary<string, string>();

    /// <summary>Time from launch to the verdict.</summary>
    public TimeSpan Elapsed { get; init; }
}

/// <summary>A stage and when the console first showed it, counted from launch.</summary>
public sealed record BootStageReached(BootStage Stage, TimeSpan Elapsed);

/// <summary>Boot progress markers, in the order a boot passes them.</summary>
public enum BootStage
{
    Firmware,
    BootOptionStarted,
    Grub,
    Kernel,
    Init,
}
