using System.CommandLine;
using System.Text.Json;
using TrustedLaunch.Attestation;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Cli.Commands.Attest;

/// <summary><c>tl attest verify-token</c>: what a relying party does with a token before trusting its claims.</summary>
internal static class VerifyTokenCommand
{
    public static Command Create()
    {
        var token = new Option<string?>("--token") { Description = "The token (JWS compact)." };
        var tokenFile = new Option<string?>("--token-file") { Description = "A file holding the token; - reads standard input." };
        var jwks = new Option<string>("--jwks") { Description = "The issuer's JWK Set: a file, or the service's URL (https://…/certs).", Required = true };
        var issuer = new Option<string>("--issuer") { Description = "The issuer the token must name (iss).", Required = true };
        var vmId = CliOptions.OptionalVmId("The VM the token must be about (x-ms-azurevm-vmid); without it any VM is accepted.");
        var json = CliOptions.Json("Print the validated claims as JSON.");
        var command = new Command("verify-token",
            "Validate an attestation token: the algorithm fixed by the issuer's key (none, HMAC and mismatched algorithms refused), " +
            "signature, issuer, lifetime and VM. Exit 0 valid, 1 refused (reason printed), 2 bad input.")
        {
            token, tokenFile, jwks, issuer, vmId, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string text = await ReadTokenAsync(parse.GetValue(token), parse.GetValue(tokenFile), cancellationToken);
            using TokenKeySet keys = await ReadKeysAsync(parse.GetValue(jwks)!, cancellationToken);
            var expectations = new TokenExpectations
            {
                Issuer = parse.GetValue(issuer)!,
                VmId = parse.GetValue(vmId) is string id ? VmIdText.Parse(id) : null,
            };
            var validator = new AttestationTokenValidator(keys, TimeProvider.System);
            if (!validator.TryValidate(text, expectations, out ValidatedAttestationToken? valid, out AttestationTokenException? refusal))
            {
                if (parse.GetValue(json))
                    CliJson.Write(new TokenRefusal(false, refusal!.Error.ToString(), refusal.Message), AttestJsonContext.Shapes.TokenRefusal, parse.Out());
                else
                    await parse.Out().WriteLineAsync($"refused ({refusal!.Error}): {refusal.Message}");
                return (int)ExitCode.VerificationFailed;
            }

            if (parse.GetValue(json))
                CliJson.Write(new TokenAccepted(true, valid!.Algorithm.ToString(), valid.KeyId, valid.VmId, valid.Expires, valid.Claims), AttestJsonContext.Shapes.TokenAccepted, parse.Out());
            else
                await parse.Out().WriteLineAsync($"valid: {valid!.Algorithm} key {valid.KeyId}, VM {valid.VmId:D}, expires {valid.Expires:u}, secure boot {Claim(valid, AttestationClaims.SecureBoot)}");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static string Claim(ValidatedAttestationToken token, string name) =>
        token.Claims.TryGetProperty(name, out JsonElement value) ? value.GetRawText() : "(absent)";

    private static async Task<string> ReadTokenAsync(string? token, string? file, CancellationToken cancellationToken)
    {
        if (token is not null == (file is not null))
            throw new CliException(ExitCode.BadInput, "give the token with exactly one of --token or --token-file");
        if (token is not null)
            return token;
        try
        {
            if (file == "-")
                return await Console.In.ReadToEndAsync(cancellationToken);
            if (new FileInfo(file!).Length > AttestationTokenValidator.MaxTokenChars)
                throw new CliException(ExitCode.BadInput, $"--token-file {file} is over the {AttestationTokenValidator.MaxTokenChars}-byte limit");
            return await File.ReadAllTextAsync(file!, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCode.BadInput, $"--token-file {file} cannot be read: {e.Message}", e);
        }
    }

    private static async Task<TokenKeySet> ReadKeysAsync(string source, CancellationToken cancellationToken)
    {
        byte[] document;
        try
        {
            if (Uri.TryCreate(source, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30), MaxResponseContentBufferSize = TokenKeySet.MaxDocumentBytes };
                document = await http.GetByteArrayAsync(uri, cancellationToken);
            }
            else
            {
                if (new FileInfo(source).Length > TokenKeySet.MaxDocumentBytes)
                    throw new CliException(ExitCode.BadInput, $"--jwks {source} is over the {TokenKeySet.MaxDocumentBytes}-byte limit");
                document = await File.ReadAllBytesAsync(source, cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpRequestException or TaskCanceledException)
        {
            throw new CliException(ExitCode.BadInput, $"--jwks {source} cannot be read: {e.Message}", e);
        }

        try
        {
            return TokenKeySet.Parse(document);
        }
        catch (AttestationTokenException e)
        {
            throw new CliException(ExitCode.BadInput, $"--jwks {source}: {e.Message}", e);
        }
    }
}
