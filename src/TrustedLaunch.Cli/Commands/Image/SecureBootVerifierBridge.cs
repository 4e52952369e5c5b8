using TrustedLaunch.Images;
using TrustedLaunch.SecureBoot;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Cli.Commands.Image;

/// <summary>
/// Connects <c>tl image inspect</c> to the Secure Boot toolkit's verifier (the same decision as
/// <c>tl secureboot verify</c>): each EFI binary on the ESP is judged against the db/dbx of the given variable
/// store, as edk2 will judge it at the next boot. Without a variable store there is nothing to judge against, so
/// the inspection says "not verified" rather than guessing.
/// </summary>
internal static class SecureBootVerifierBridge
{
    /// <exception cref="CliException">The variable store is not an OVMF variable store (exit 2).</exception>
    public static IBootFileVerifier? TryCreate(string? variableStore)
    {
        if (variableStore is null)
            return null;
        try
        {
            return new DatabaseVerifier(ImageSecurityDatabases.FromVariableStore(OvmfVariableStore.LoadFile(variableStore)));
        }
        catch (Exception e) when (e is UefiFormatException or VariableStoreException)
        {
            throw new CliException(ExitCode.BadInput, $"{variableStore} is not an OVMF variable store: {e.Message}");
        }
    }

    private sealed class DatabaseVerifier(ImageSecurityDatabases databases) : IBootFileVerifier
    {
        public (string Verdict, string Reason) Verify(string efiBinary)
        {
            SecureBootVerdict verdict = FirmwareImageVerifier.Verify(File.ReadAllBytes(efiBinary), databases);
            return (verdict.Allowed ? "allowed" : "denied", verdict.Message);
        }
    }
}
