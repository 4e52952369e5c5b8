using TrustedLaunch.Storage;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Cli.Commands.Vmgs;

/// <summary>
/// Runs a vmgs command body and maps failures to exit codes: corrupt or wrongly keyed (integrity) → 1,
/// malformed file or bad arguments → 2, file in use or not permitted → 3. System.CommandLine would otherwise
/// catch the exception first and exit 1 with a stack trace.
/// </summary>
internal static class VmgsGuard
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (CliException e)
        {
            return Fail(e.Code, e.Message);
        }
        catch (VmgsIntegrityException e)
        {
            return Fail(ExitCode.VerificationFailed, $"VMGS integrity check failed: {e.Message}");
        }
        catch (VmgsFormatException e)
        {
            return Fail(ExitCode.BadInput, $"malformed VMGS file: {e.Message}");
        }
        catch (VmgsFileInUseException e)
        {
            return Fail(ExitCode.EnvironmentProblem, e.Message);
        }
        catch (SealingKeyException e)
        {
            return Fail(ExitCode.BadInput, e.Message);
        }
        catch (IOException e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Fail(ExitCode.BadInput, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            return Fail(ExitCode.EnvironmentProblem, e.Message);
        }
    }

    public static VmgsKeyEncryptionKey LoadKey(string path) => VmgsKeyEncryptionKey.Load(path);

    public static VmgsEntryId ParseEntry(string name) =>
        VmgsEntryNames.TryParse(name, out VmgsEntryId id)
            ? id
            : throw new CliException(ExitCode.BadInput, $"--entry '{name}' is not an entry name (uefi-nvram, vtpm, identity, or entry-N).");

    private static int Fail(ExitCode code, string message)
    {
        Console.Error.WriteLine($"tl: {message}");
        return (int)code;
    }
}
