using TrustedLaunch.Images;
using TrustedLaunch.SecureBoot;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Cli.Commands.Image;

/// <summary>
/// Connects <c>tl image inspect</c> to the Secure Boot toolkit's verifier (the same decision as
/// <c>tl secureboot verify</c>): each EFI binary on the ESP is judged against the db/dbx of the given variable
/// store (or of a template), as edk2 will judge it at the next boot. Without either there is nothing to judge
/// against, so the inspection says "not verified" rather than guessing.
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

    /// <summary>
    /// A verifier with a template's db/dbx: what a new VM of that template would decide. The PK only has to exist for the
    /// store to be built; it plays no part in judging an image, so a throwaway one serves.
    /// </summary>
    public static IBootFileVerifier ForTemplate(string templateName)
    {
        if (!SecureBootTemplates.TryParse(templateName, out SecureBootTemplate template) || SecureBootTemplates.MicrosoftKeys(template).Count == 0)
            throw new CliException(ExitCode.BadInput, $"'{templateName}' is not a Microsoft template; use --vars for a store with other keys.");
        using var pk = PlatformKeyGenerator.Generate("TrustedLaunch image inspection (verification only)");
        OvmfVariableStore store = SecureBootStoreFactory.Create(new SecureBootStoreOptions { Template = template, PlatformKey = pk.RawData });
        return new DatabaseVerifier(ImageSecurityDatabases.FromVariableStore(store));
    }

    private sealed class DatabaseVerifier(ImageSecurityDatabases databases) : IBootFileVerifier
    {
        public BootFileVerdict Verify(string efiBinary)
        {
            SecureBootVerdict verdict = FirmwareImageVerifier.Verify(File.ReadAllBytes(efiBinary), databases);
            return new BootFileVerdict(verdict.Allowed ? "allowed" : "denied", verdict.Message,
                [.. verdict.Signatures.Select(s => new BootFileSignature(s.Index, s.Signer, s.Outcome.ToString(), s.AdmittedBy?.Subject))]);
        }
    }
}
