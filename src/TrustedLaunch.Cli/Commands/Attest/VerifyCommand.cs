using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Storage;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Cli.Commands.Attest;

/// <summary><c>tl attest verify</c>: one evidence bundle through <see cref="AttestationVerifier"/>.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var evidence = new Option<string>("--evidence") { Description = "Evidence bundle (JSON, as the guest agent sends it).", Required = true };
        var ca = CliOptions.Ca("Platform CA folder (tl ca init): root-ca.crt and vtpm-ak-ca.crt are read; no key is needed.");
        var vmId = CliOptions.VmId("The VM id the AK certificate must name (the --vm-id given to tl vmgs create).");
        var nonce = new Option<string?>("--nonce") { Description = "The challenge issued (hex or base64). Without it the bundle's own nonce is used and freshness is NOT checked." };
        var baseline = new Option<string?>("--baseline") { Description = "A learned baseline (JSON) to compare early and late boot with." };
        var policy = new Option<string?>("--policy") { Description = "A named reference policy (JSON); without it the minimum policy applies (Secure Boot on, no debuggers, strict log)." };
        var learn = new Option<string?>("--learn-baseline") { Description = "Write the baseline learned from this (authentic) boot to this file; relearn by pointing it at a newer bundle." };
        var tokenKey = new Option<string?>("--token-key") { Description = "Token signing key PEM; created (ES256, mode 0600) when the file does not exist. Prints a token when the attestation passes." };
        var issuer = new Option<string>("--issuer") { Description = "Token issuer (iss).", DefaultValueFactory = _ => "https://localhost/trustedlaunch" };
        var json = CliOptions.Json();
        var command = new Command("verify",
            "Verify an evidence bundle: AK certificate -> quote -> event-log replay -> appraisal -> baseline -> policy. " +
            "Exit 0 pass, 1 verification failed (reason and component printed), 2 malformed evidence or bad input.")
        {
            evidence, ca, vmId, nonce, baseline, policy, learn, tokenKey, issuer, json,
        };
        command.SetAction(parse =>
        {
            AttestationEvidence bundle = ReadEvidence(parse.GetValue(evidence)!);
            string? nonceText = parse.GetValue(nonce);
            var expectations = new AttestationExpectations
            {
                VmId = VmIdText.Parse(parse.GetValue(vmId)!),
                Nonce = nonceText is null ? bundle.Nonce : ParseNonce(nonceText),
                AkCaCertificates = ReadCa(parse.GetValue(ca)!),
                Baseline = Read(parse.GetValue(baseline), "--baseline", AttestationBaseline.FromJson),
                Policy = Read(parse.GetValue(policy), "--policy", ReferencePolicy.FromJson),
            };

            AttestationResult result = new AttestationVerifier(TimeProvider.System).Verify(bundle, expectations);
            string? learnedTo = Learn(result, parse.GetValue(learn));
            string? token = null;
            if (result.Passed && parse.GetValue(tokenKey) is string keyPath)
            {
                using TokenSigningKey key = LoadOrCreateKey(keyPath);
                token = new AttestationTokenIssuer(key, parse.GetValue(issuer)!, TimeProvider.System).Issue(result, expectations.VmId);
            }

            if (parse.GetValue(json))
                CliJson.Write(new VerifyOutput(result, nonceText is not null, learnedTo, token), AttestJsonContext.Shapes.VerifyOutput, parse.Out());
            else
                VerifyReport.Print(parse.Out(), result, nonceText is not null, learnedTo, token);

            return (int)(result.Passed ? ExitCode.Ok
                : result.Failure?.Reason == AttestationFailureReason.EvidenceMalformed ? ExitCode.BadInput
                : ExitCode.VerificationFailed);
        });
        return command;
    }

    private static AttestationEvidence ReadEvidence(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
                throw new CliException(ExitCode.BadInput, $"--evidence {path} does not exist");
            if (info.Length > EvidenceJson.MaxDocumentBytes)
                throw new CliException(ExitCode.BadInput, $"--evidence {path} is {info.Length} bytes, over the {EvidenceJson.MaxDocumentBytes}-byte limit");
            return EvidenceJson.Parse(File.ReadAllBytes(path));
        }
        catch (EvidenceFormatException e)
        {
            throw new CliException(ExitCode.BadInput, $"malformed evidence {path}: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCode.BadInput, $"--evidence {path} cannot be read: {e.Message}", e);
        }
    }

    internal static byte[] ParseNonce(string text)
    {
        byte[] nonce;
        if (text.Length % 2 == 0 && text.All(char.IsAsciiHexDigit))
            nonce = Convert.FromHexString(text);
        else
        {
            nonce = new byte[text.Length];
            if (!Convert.TryFromBase64String(text, nonce, out int written))
                throw new CliException(ExitCode.BadInput, $"--nonce '{text}' is neither hex nor base64");
            nonce = nonce[..written];
        }

        if (nonce.Length is < EvidenceJson.MinNonceBytes or > EvidenceJson.MaxNonceBytes)
            throw new CliException(ExitCode.BadInput, $"--nonce is {nonce.Length} bytes; {EvidenceJson.MinNonceBytes}-{EvidenceJson.MaxNonceBytes} expected");
        return nonce;
    }

    private static X509Certificate2Collection ReadCa(string directory)
    {
        var collection = new X509Certificate2Collection();
        foreach (string name in PlatformCaLayout.VerifierAuthorities)
        {
            string path = PlatformCaLayout.CertificatePath(directory, name);
            try
            {
                collection.Add(X509Certificate2.CreateFromPem(File.ReadAllText(path)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new CliException(ExitCode.BadInput, $"--ca: {path} cannot be read ({e.Message}); create the PKI with 'tl ca init'", e);
            }
        }

        return collection;
    }

    private static T? Read<T>(string? path, string option, Func<ReadOnlySpan<byte>, T> parse)
        where T : class
    {
        if (path is null)
            return null;
        try
        {
            return parse(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new CliException(ExitCode.BadInput, $"{option} {path}: {e.Message}", e);
        }
    }

    private static string? Learn(AttestationResult result, string? path)
    {
        if (path is null)
            return null;
        if (result.BootState is null || result.Failure is { Reason: not (AttestationFailureReason.BaselineDeviation or AttestationFailureReason.PolicyDeviation) })
            return null; // never learn from evidence that did not verify; the report says so
        File.WriteAllBytes(path, AttestationBaseline.Learn(result).ToJson());
        return Path.GetFullPath(path);
    }

    private static TokenSigningKey LoadOrCreateKey(string path)
    {
        try
        {
            if (File.Exists(path))
                return TokenSigningKey.FromPem(File.ReadAllText(path));
            TokenSigningKey key = TokenSigningKey.Create();
            OwnerOnlyFile.WriteNew(path, System.Text.Encoding.ASCII.GetBytes(key.ExportPem()));
            return key;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new CliException(ExitCode.BadInput, $"--token-key {path}: {e.Message}", e);
        }
    }

    /// <summary>The <c>--json</c> document.</summary>
    internal sealed record VerifyOutput(AttestationResult Result, bool NonceChecked, string? BaselineWritten, string? Token)
    {
        public string Verdict => Result.Passed ? "pass" : "fail";

        public string? Reason => Result.Failure?.Reason.ToString();

        public string? Component => Result.Failure?.Component;

        public string? Message => Result.Failure?.Message;
    }
}
