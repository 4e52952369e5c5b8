namespace TrustedLaunch.Runtime.Firmware;

/// <summary>
/// One OVMF build: the read-only code flash and the variable-store template of the same flash layout. The secure-boot
/// builds (<c>*.secboot.fd</c>) are compiled with SMM_REQUIRE and SECURE_BOOT_ENABLE and must run on q35 with
/// <c>smm=on</c> and a secure pflash; the plain builds carry no image verification at all, which is how a VM runs
/// "with Secure Boot off" whatever keys its variable store holds.
/// </summary>
public sealed record OvmfFirmware(string CodePath, string VarsTemplatePath, string MicrosoftVarsTemplatePath, bool SecureBoot, int FlashMiB)
{
    /// <summary>Where Debian's <c>ovmf</c> package installs its builds.</summary>
    public const string DebianDirectory = "/usr/share/OVMF";

    /// <summary>
    /// Finds a build in <paramref name="directory"/>: the 4 MiB layout first (its variable store holds the larger
    /// 2023 Microsoft certificates and dbx updates), else the 2 MiB one.
    /// </summary>
    public static OvmfFirmware Locate(bool secureBoot, string directory = DebianDirectory) => Locate(secureBoot, null, directory);

    /// <summary>
    /// Finds the build whose flash layout takes a variable store of <paramref name="varsSize"/> bytes (any layout when null),
    /// so a 2 MiB store runs on the 2 MiB build instead of failing in the firmware.
    /// </summary>
    public static OvmfFirmware Locate(bool secureBoot, long? varsSize, string directory = DebianDirectory)
    {
        foreach (var (suffix, mib) in new[] { ("_4M", 4), ("", 2) })
        {
            string code = Path.Combine(directory, secureBoot ? $"OVMF_CODE{suffix}.secboot.fd" : $"OVMF_CODE{suffix}.fd");
            string vars = Path.Combine(directory, $"OVMF_VARS{suffix}.fd");
            string msVars = Path.Combine(directory, $"OVMF_VARS{suffix}.ms.fd");
            if (File.Exists(code) && File.Exists(vars) && (varsSize is null || new FileInfo(vars).Length == varsSize))
                return new OvmfFirmware(code, vars, msVars, secureBoot, mib);
        }

        string layout = varsSize is null ? "" : $" for a {varsSize}-byte variable store";
        throw new VmRuntimeException(varsSize is null ? VmRuntimeFailure.Environment : VmRuntimeFailure.BadInput,
            $"No OVMF {(secureBoot ? "secure-boot " : "")}build{layout} in {directory}; install the 'ovmf' package " +
            "(scripts/install-deps.sh) or create a store of the 4 MiB layout with 'tl uefi vars create --size 4m'.");
    }

    /// <summary>The layout size of a variable store this code flash accepts, in bytes (read from the file: not part of a run record).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long VarsSize => new FileInfo(VarsTemplatePath).Length;

    /// <summary>Checks that a variable store fits this build's flash layout (a 2 MiB store in a 4 MiB build does not boot).</summary>
    public void EnsureCompatible(ReadOnlySpan<byte> variableStore)
    {
        if (variableStore.Length != VarsSize)
        {
            throw new VmRuntimeException(VmRuntimeFailure.BadInput,
                $"The variable store is {variableStore.Length} bytes but {Path.GetFileName(CodePath)} needs a {VarsSize}-byte store " +
                $"(OVMF {FlashMiB} MiB layout); create one with 'tl uefi vars create --size {FlashMiB}m'.");
        }
    }
}
