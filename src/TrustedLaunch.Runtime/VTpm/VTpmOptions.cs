namespace TrustedLaunch.Runtime.VTpm;

/// <summary>Which command-line dialect the vTPM program speaks; both serve the same swtpm control protocol.</summary>
public enum VTpmFlavor
{
    /// <summary>TrustedLaunch's <c>tl-vtpm</c>: state in one encrypted file (<c>--state FILE --key-file KEY</c>).</summary>
    TlVtpm,

    /// <summary>The reference <c>swtpm</c> (state in a directory or a linear file), for comparison and as a fallback.</summary>
    Swtpm,
}

/// <summary>How to run the VM's vTPM process.</summary>
public sealed record VTpmOptions
{
    /// <summary>The program (a name on PATH or a path).</summary>
    public required string Program { get; init; }

    public required VTpmFlavor Flavor { get; init; }

    /// <summary>
    /// The vTPM state: for <c>tl-vtpm</c> its state file (required), for <c>swtpm</c> a linear state file
    /// (<c>backend-uri=file://</c>); null for swtpm means a fresh, throw-away TPM in the VM's run folder.
    /// </summary>
    public string? StatePath { get; init; }

    /// <summary>The key file sealing <see cref="StatePath"/> (tl-vtpm only).</summary>
    public string? KeyPath { get; init; }

    /// <summary>
    /// The VM's guest-state file whose <c>vtpm</c> entry holds the state (tl-vtpm only, with <see cref="KekPath"/>, instead of
    /// <see cref="StatePath"/>/<see cref="KeyPath"/>). tl-vtpm holds the VMGS writer lock while it runs.
    /// </summary>
    public string? VmgsPath { get; init; }

    /// <summary>The host key-encryption key that unwraps <see cref="VmgsPath"/>'s data key.</summary>
    public string? KekPath { get; init; }

    /// <summary>How long to wait for the control socket to answer.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The default: <c>tl-vtpm</c> when it is installed (beside <c>tl</c>, on PATH, or named by <c>TL_VTPM</c>) and a state
    /// file is given; otherwise <c>swtpm</c>.
    /// </summary>
    public static VTpmOptions Default(string? statePath, string? keyPath)
    {
        string? tlVtpm = FindTlVtpm();
        if (tlVtpm is not null && statePath is not null && keyPath is not null)
            return new VTpmOptions { Program = tlVtpm, Flavor = VTpmFlavor.TlVtpm, StatePath = statePath, KeyPath = keyPath };
        return new VTpmOptions { Program = "swtpm", Flavor = VTpmFlavor.Swtpm, StatePath = statePath };
    }

    /// <summary>
    /// tl-vtpm on a VMGS. swtpm cannot read a VMGS, so there is no fallback: a missing tl-vtpm is an environment problem.
    /// </summary>
    /// <param name="program">tl-vtpm's path; null finds it (<see cref="FindTlVtpm"/>).</param>
    /// <exception cref="VmRuntimeException">tl-vtpm is not installed.</exception>
    public static VTpmOptions ForVmgs(string vmgsPath, string kekPath, string? program = null)
    {
        string tlVtpm = program ?? FindTlVtpm() ?? throw new VmRuntimeException(VmRuntimeFailure.Environment,
            "tl-vtpm is not installed (beside tl, on PATH, or named by TL_VTPM); a VMGS's vTPM runs only in tl-vtpm.");
        return new VTpmOptions
        {
            Program = tlVtpm,
            Flavor = VTpmFlavor.TlVtpm,
            VmgsPath = Path.GetFullPath(vmgsPath),
            KekPath = Path.GetFullPath(kekPath),
        };
    }

    /// <summary><c>tl-vtpm</c>'s location, or null when it is not installed.</summary>
    public static string? FindTlVtpm()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("TL_VTPM");
        if (!string.IsNullOrEmpty(fromEnvironment))
            return File.Exists(fromEnvironment) ? Path.GetFullPath(fromEnvironment) : null;
        string besideUs = Path.Combine(AppContext.BaseDirectory, "tl-vtpm");
        return File.Exists(besideUs) ? besideUs : HostSystem.ExecutableSearch.Find("tl-vtpm");
    }
}
