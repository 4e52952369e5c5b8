using TrustedLaunch.Runtime;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Runtime.VTpm;

namespace TrustedLaunch.Cli.Commands.Boot;

/// <summary>
/// Opens a VMGS for launch and maps what is wrong with it to exit codes, the same way the <c>tl vmgs</c> commands do:
/// integrity (wrong key, corrupted, tampered) → 1, missing/malformed/incomplete file or unusable key file → 2, in use → 3.
/// </summary>
internal static class VmgsLaunch
{
    public static VmgsGuestState Open(string vmgsPath, string kekPath)
    {
        try
        {
            return VmgsGuestState.Open(vmgsPath, kekPath);
        }
        catch (VmgsGuestStateException e)
        {
            throw new CliException(e.Problem switch
            {
                VmgsGuestStateProblem.IntegrityFailed => ExitCode.VerificationFailed,
                VmgsGuestStateProblem.InUse => ExitCode.EnvironmentProblem,
                _ => ExitCode.BadInput,
            }, e.Message, e);
        }
    }

    public static VTpmOptions VTpm(VmgsGuestState state, string? program)
    {
        try
        {
            return state.VTpm(program);
        }
        catch (VmRuntimeException e)
        {
            throw new CliException(ExitCode.EnvironmentProblem, e.Message, e);
        }
    }
}
