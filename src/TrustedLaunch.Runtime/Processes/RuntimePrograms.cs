using TrustedLaunch.HostSystem;
using TrustedLaunch.HostSystem.Processes;

namespace TrustedLaunch.Runtime.Processes;

/// <summary>The programs a VM runs (QEMU, the vTPM), found and started with failures as <see cref="VmRuntimeException"/>.</summary>
internal static class RuntimePrograms
{
    /// <summary>Full path of <paramref name="name"/>; a missing program is an environment problem naming the package.</summary>
    public static string Require(string name, string package) =>
        ExecutableSearch.Find(name) ?? throw new VmRuntimeException(VmRuntimeFailure.Environment, ExecutableSearch.NotInstalledMessage(name, package));

    /// <summary>Starts a helper that dies with us (<see cref="ChildProcess"/>).</summary>
    public static ChildProcess Start(string program, IEnumerable<string> arguments, string logFile)
    {
        try
        {
            return ChildProcess.Start(program, arguments, logFile);
        }
        catch (ProgramStartException e)
        {
            throw new VmRuntimeException(VmRuntimeFailure.Environment, e.Message, e);
        }
    }

    /// <summary>Starts a helper that outlives us (<see cref="DetachedProcess"/>): a VM supervised by a host agent.</summary>
    public static DetachedProcess StartDetached(string program, IEnumerable<string> arguments, string logFile)
    {
        try
        {
            return DetachedProcess.Start(program, arguments, logFile);
        }
        catch (ProgramStartException e)
        {
            throw new VmRuntimeException(VmRuntimeFailure.Environment, e.Message, e);
        }
    }
}
