using System.CommandLine;
using System.Text;
using TrustedLaunch.SecureBoot;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.VariableStore;

using TrustedLaunch.Cli.Commands.Uefi;

namespace TrustedLaunch.Cli.Commands.SecureBoot;

/// <summary><c>tl secureboot verify FILE --vars VARSTORE [--json]</c>: the firmware's ALLOWED/DENIED for one EFI binary.</summary>
internal static class SecureBootVerifyCommand
{
    /// <summary>Larger files are not boot images; OVMF could not load them either.</summary>
    private const long MaxImageSize = 512L * 1024 * 1024;

    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "EFI binary (PE32/PE32+): shim, grub, a kernel with EFI stub, a driver." };
        var vars = new Option<string>("--vars") { Description = "OVMF variable store (OVMF_VARS*.fd) whose db/dbx decide.", Required = true };
        var json = CliOptions.Json("Print the verdict, reason, matching entry and every signature as JSON.");
        var command = new Command("verify",
            "Decide ALLOWED or DENIED exactly as OVMF's DxeImageVerificationLib would, and say per signature which db CA admits it. Exit 0 allowed, 1 denied, 2 malformed input.")
        {
            file, vars, json,
        };
        command.SetAction(parse =>
        {
            string imagePath = parse.GetValue(file)!;
            var databases = LoadDatabases(parse.GetValue(vars)!);
            using MappedImageFile image = MappedImageFile.Open(imagePath, MaxImageSize);
            var verdict = FirmwareImageVerifier.Verify(image.Memory, databases);
            if (parse.GetValue(json))
                CliJson.Write(new SecureBootVerifyJson(imagePath, verdict.Verdict, verdict), SecureBootJsonContext.Shapes.SecureBootVerifyJson, parse.Out());
            else
                parse.Out().Write(ToText(imagePath, verdict));
            if (verdict.Reason == VerdictReason.MalformedImage)
                return (int)ExitCode.BadInput;
            return verdict.Allowed ? (int)ExitCode.Ok : (int)ExitCode.VerificationFailed;
        });
        return command;
    }

    private static ImageSecurityDatabases LoadDatabases(string path)
    {
        try
        {
            return ImageSecurityDatabases.FromVariableStore(OvmfVariableStore.LoadFile(path));
        }
        catch (UefiFormatException e)
        {
            throw new CliException(ExitCode.BadInput, $"{path} is not a valid OVMF variable store: {e.Message}");
        }
    }

    private static string ToText(string path, SecureBootVerdict verdict)
    {
        var text = new StringBuilder();
        text.Append(verdict.Verdict).Append(": ").AppendLine(path);
        text.Append("  reason: ").AppendLine(verdict.Message);
        if (verdict.IfEnforced is { } enforced)
            text.Append("  if Secure Boot were enforced: ").Append(enforced.Verdict).Append(" — ").AppendLine(enforced.Message);
        if (verdict.Sha256 is not null)
            text.Append("  authenticode sha256: ").AppendLine(verdict.Sha256);
        foreach (var s in verdict.Signatures)
        {
            text.Append("  signature ").Append(s.Index).Append(": ").Append(s.Outcome);
            if (s.DigestAlgorithm is not null)
                text.Append(" (").Append(s.DigestAlgorithm).Append(')');
            text.AppendLine();
            if (s.Signer is not null)
                text.Append("    signer: ").AppendLine(s.Signer);
            foreach (string link in s.Chain.Skip(1))
                text.Append("    issuer: ").AppendLine(link);
            if (AdmissionText(s) is { } admission)
                text.Append("    admitted by: ").AppendLine(admission);
            if (s.Detail is not null)
                text.Append("    ").AppendLine(s.Detail);
        }

        if (verdict.Sbat is { } sbat)
        {
            text.AppendLine("  sbat:");
            foreach (var e in sbat.Entries)
                text.Append("    ").Append(e.Component).Append(',').Append(e.Generation).Append(" (").Append(e.VendorName).Append(' ').Append(e.VendorVersion).AppendLine(")");
        }

        return text.ToString();
    }

    /// <summary>
    /// Which db certificate admits the signature on its own ("db: CN=…"; "none", the detail line says why), for a
    /// signature whose db search ran; null for one the firmware skipped, could not verify or refused by dbx.
    /// </summary>
    internal static string? AdmissionText(SignatureReport signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (signature.AdmittedBy is { } entry)
            return $"{entry.Database}: {entry.Subject}";
        return signature.Outcome is SignatureOutcome.NotTrusted or SignatureOutcome.NotNeeded or SignatureOutcome.TrustAnchorRevoked or SignatureOutcome.ImageHashInDb
            ? "none"
            : null;
    }
}
