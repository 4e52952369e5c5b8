using TrustedLaunch.Runtime;
using TrustedLaunch.Storage;

namespace TrustedLaunch.Cli.Commands.Boot;

/// <summary>
/// Starts a VM for a foreground command (<c>tl boot</c>, <c>tl quickstart</c>) and maps what the runtime refuses to exit
/// codes: bad input → 2, environment (no QEMU/vTPM, socket) → 3, anything else about the VM or its state → 1.
/// </summary>
internal static class VirtualMachineStart
{
    public static async Task<VirtualMachine> StartAsync(VirtualMachineOptions options, CancellationToken cancellationToken)
    {
        try
        {
            return await VirtualMachine.StartAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (VmRuntimeException e)
        {
            throw new CliException(e.Failure switch
            {
                VmRuntimeFailure.BadInput => ExitCode.BadInput,
                VmRuntimeFailure.Environment => ExitCode.EnvironmentProblem,
                _ => ExitCode.VerificationFailed,
            }, e.Message, e);
        }
        catch (NonVolatileStoreException e)
        {
            throw new CliException(ExitCode.VerificationFailed, e.Message, e);
        }
    }
}
