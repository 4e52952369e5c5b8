using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.Images;
using TrustedLaunch.Runtime;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Storage;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.VTpm.Engine;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.VTpm.State;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Cli;

/// <summary>The exit code and the message <c>tl</c> reports for a failure.</summary>
internal sealed record CliFailure(ExitCode Code, string Message);

/// <summary>
/// The one table from failures to exit codes (docs/cli.md), keyed by the exception family each library throws.
/// Commands let these through; a command catches only to add what the library cannot know (which option or file).
/// </summary>
internal static partial class CliErrors
{
    /// <summary>The code and message for <paramref name="e"/>, or null for an exception no table row covers (a bug).</summary>
    public static CliFailure? Translate(Exception e) => Tool(e) ?? Service(e) ?? Generic(e);

    /// <summary>The rows for the service verbs' exceptions (host agent, server stores); none in the NativeAOT <c>tl</c>.</summary>
    private static partial CliFailure? Service(Exception e);

    private static CliFailure? Tool(Exception e) => e switch
    {
        CliException cli => new(cli.Code, cli.Message),

        // The control plane's answers: ARM's error (code and message, as az prints it), a failed operation, no answer.
        ArmApiException arm => new(arm.ExitCode, arm.Describe()),
        ArmOperationFailedException => new(ExitCode.VerificationFailed, e.Message),
        TrustedLaunch.ArmTemplates.ArmTemplateException => new(ExitCode.BadInput, $"template: {e.Message}"),

        // Guest state: corrupt or wrongly keyed → 1, malformed → 2, held by a running VM → 3.
        VmgsIntegrityException => new(ExitCode.VerificationFailed, $"VMGS integrity check failed: {e.Message}"),
        VmgsFormatException => new(ExitCode.BadInput, $"malformed VMGS file: {e.Message}"),
        VmgsFileInUseException => new(ExitCode.EnvironmentProblem, e.Message),
        VmgsGuestStateException state => new(state.Problem switch
        {
            VmgsGuestStateProblem.IntegrityFailed => ExitCode.VerificationFailed,
            VmgsGuestStateProblem.InUse => ExitCode.EnvironmentProblem,
            _ => ExitCode.BadInput,
        }, e.Message),

        // Runtime and images say whose fault it is; a VM whose state cannot be read back failed to launch as asked.
        VmRuntimeException runtime => new(runtime.Failure switch
        {
            VmRuntimeFailure.BadInput => ExitCode.BadInput,
            VmRuntimeFailure.Environment => ExitCode.EnvironmentProblem,
            _ => ExitCode.VerificationFailed,
        }, e.Message),
        NonVolatileStoreException => new(ExitCode.VerificationFailed, e.Message),
        ImageException image => new(image.Failure == ImageFailure.Environment ? ExitCode.EnvironmentProblem : ExitCode.BadInput, e.Message),

        // vTPM state and engine.
        VTpmStateException state => new(state.Failure == VTpmStateFailure.Unavailable ? ExitCode.EnvironmentProblem : ExitCode.BadInput, e.Message),
        LibTpmsException => new(ExitCode.BadInput, e.Message),
        DllNotFoundException or EntryPointNotFoundException => new(ExitCode.EnvironmentProblem, $"libtpms cannot be loaded ({e.Message}); install libtpms0"),

        // Inputs the libraries refused: CA folders, variable stores, key files, trust anchors.
        PlatformCaException or VariableStoreException or SealingKeyException =>
            new(ExitCode.BadInput, e.Message),

        // An embedded Microsoft certificate that is not the pinned one: this installation of tl is damaged.
        MicrosoftCertificateException => new(ExitCode.EnvironmentProblem, e.Message),

        _ => null,
    };

    private static CliFailure? Generic(Exception e) => e switch
    {
        UnauthorizedAccessException => new(ExitCode.EnvironmentProblem, e.Message),
        IOException => new(ExitCode.BadInput, e.Message),
        _ => null,
    };
}
