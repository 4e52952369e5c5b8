using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Cli.Commands.Tpm;

/// <summary>
/// <c>tl tpm checkquote</c>: a drop-in for tpm2-tools' <c>tpm2_checkquote</c> (same short and long options, same
/// input files). Exit 0 when the quote verifies, 1 when it does not, 2 when an input is missing or malformed.
/// </summary>
internal static class CheckQuoteCommand
{
    public static Command Create()
    {
        var publicKey = new Option<FileInfo>("--public", "-u") { Description = "AK public key: TPM2B_PUBLIC (tpm2_readpublic -o), bare TPMT_PUBLIC, or PEM.", Required = true };
        var message = new Option<FileInfo>("--message", "-m") { Description = "The quote message: TPMS_ATTEST as written by tpm2_quote -m.", Required = true };
        var signature = new Option<FileInfo>("--signature", "-s") { Description = "The signature: TPMT_SIGNATURE as written by tpm2_quote -s.", Required = true };
        var pcrs = new Option<FileInfo?>("--pcr", "-f") { Description = "PCR values as written by tpm2_quote -o; without it the PCR digest is not checked." };
        var qualification = new Option<string?>("--qualification", "-q") { Description = "Expected qualifying data (nonce): hex, or a file holding the bytes." };
        var hash = new Option<string?>("--hash-algorithm", "-g") { Description = "Hash of the PCR digest (sha1, sha256, …); default: the signature's hash." };
        var format = new Option<string?>("--format", "-F") { Description = "Signature format; only 'tss' (TPMT_SIGNATURE) is accepted, as tpm2_checkquote defaults to." };
        var json = CliOptions.Json("Print the verdict and the decoded quote as JSON.");

        var command = new Command("checkquote", "Verify a TPM2_Quote: signature, TPM_GENERATED magic, type, nonce and PCR digest (drop-in for tpm2_checkquote). Exit 0 verified, 1 not verified, 2 bad input.")
        {
            publicKey, message, signature, pcrs, qualification, hash, format, json,
        };
        command.SetAction(parse => Run(
            parse.GetValue(publicKey)!, parse.GetValue(message)!, parse.GetValue(signature)!, parse.GetValue(pcrs),
            parse.GetValue(qualification), parse.GetValue(hash), parse.GetValue(format), parse.GetValue(json), parse));
        return command;
    }

    private static int Run(FileInfo publicKey, FileInfo message, FileInfo signatureFile, FileInfo? pcrFile, string? qualification,
        string? hashName, string? format, bool json, ParseResult parse)
    {
        if (format is not null && !format.Equals("tss", StringComparison.OrdinalIgnoreCase))
            throw new CliException(ExitCode.BadInput, $"signature format '{format}' is not supported; only 'tss' (TPMT_SIGNATURE).");
        byte[] attest = ReadFile(message, "message");
        byte[] sigBytes = ReadFile(signatureFile, "signature");
        TpmtSignature signature;
        try
        {
            signature = TpmtSignature.Parse(sigBytes);
        }
        catch (TpmFormatException e)
        {
            throw new CliException(ExitCode.BadInput, $"{signatureFile.Name} is not a TPMT_SIGNATURE: {e.Message}");
        }

        TpmtPublic key = QuoteInputs.LoadPublicKey(ReadFile(publicKey, "public key"), publicKey.Name, signature);
        byte[] nonce = qualification is null ? [] : QuoteInputs.ParseQualification(qualification);
        TpmAlgId? pcrAlg = null;
        if (hashName is not null)
            pcrAlg = TpmHashAlgorithm.TryParseBankName(hashName, out var alg) && TpmHashAlgorithm.IsComputable(alg)
                ? alg
                : throw new CliException(ExitCode.BadInput, $"'{hashName}' is not a supported hash algorithm.");
        Dictionary<(TpmAlgId, int), byte[]>? values = null;
        if (pcrFile is not null)
        {
            try
            {
                values = Tpm2ToolsPcrFile.Parse(ReadFile(pcrFile, "PCR file")).Values;
            }
            catch (TpmFormatException e)
            {
                throw new CliException(ExitCode.BadInput, $"{pcrFile.Name} is not a tpm2_quote PCR file: {e.Message}");
            }
        }

        var result = QuoteVerifier.Verify(key, attest, sigBytes, nonce, qualification is not null, values, pcrAlg);
        if (result.Failure == QuoteFailure.MalformedAttest)
            throw new CliException(ExitCode.BadInput, $"{message.Name} is not a TPMS_ATTEST: {result.Detail}");
        Report(result, signature, values, json, parse);
        return result.IsValid ? (int)ExitCode.Ok : (int)ExitCode.VerificationFailed;
    }

    private static void Report(QuoteVerification result, TpmtSignature signature, Dictionary<(TpmAlgId, int), byte[]>? values, bool json, ParseResult parse)
    {
        var quote = result.Attest?.Attested as TpmsQuoteInfo;
        if (json)
        {
            CliJson.Write(new CheckQuoteReport(
                result.IsValid, result.Failure, result.Detail,
                result.Attest is null ? null : string.Create(CultureInfo.InvariantCulture, $"0x{result.Attest.Magic:X8}"),
                result.Attest?.Type.ToString(), Hex(result.Attest?.QualifiedSigner), Hex(result.Attest?.ExtraData),
                result.Attest?.ClockInfo.Clock, result.Attest?.ClockInfo.ResetCount, result.Attest?.ClockInfo.RestartCount,
                result.Attest?.ClockInfo.Safe, result.Attest?.FirmwareVersion, quote?.PcrSelect.ToString(), Hex(quote?.PcrDigest),
                Hex(result.ComputedPcrDigest), $"{signature.SigAlg}/{signature.Hash}",
                values?.OrderBy(v => v.Key.Item1).ThenBy(v => v.Key.Item2)
                    .Select(v => new PcrValue(TpmHashAlgorithm.BankName(v.Key.Item1) ?? v.Key.Item1.ToString(), v.Key.Item2, Convert.ToHexString(v.Value)))
                    .ToList()), TpmJsonContext.Shapes.CheckQuoteReport, parse.Out());
            return;
        }

        if (values is not null)
        {
            // The same shape tpm2_checkquote prints, so scripts reading it keep working.
            parse.Out().WriteLine("pcrs:");
            foreach (var bank in values.GroupBy(v => v.Key.Item1))
            {
                parse.Out().WriteLine($"  {TpmHashAlgorithm.BankName(bank.Key)}:");
                foreach (var v in bank.OrderBy(v => v.Key.Item2))
                    parse.Out().WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {v.Key.Item2,-2}: 0x{Convert.ToHexString(v.Value)}"));
            }
        }

        parse.Out().WriteLine($"sig: {Convert.ToHexString(signature.Signature).ToLowerInvariant()}{Convert.ToHexString(signature.SignatureS).ToLowerInvariant()}");
        if (result.IsValid)
            parse.Out().WriteLine($"verified: {result.Detail}");
        else
            parse.Error().WriteLine($"tl: quote NOT verified ({result.Failure}): {result.Detail}");
    }

    private static string? Hex(byte[]? bytes) => bytes is null ? null : Convert.ToHexString(bytes);

    private static byte[] ReadFile(FileInfo file, string what)
    {
        if (!file.Exists)
            throw new CliException(ExitCode.BadInput, $"{what} file {file.FullName} does not exist.");
        return File.ReadAllBytes(file.FullName);
    }

    internal sealed record PcrValue(string Bank, int Index, string Value);

    internal sealed record CheckQuoteReport(
        bool Verified, QuoteFailure Failure, string Detail, string? Magic, string? Type, string? QualifiedSigner, string? ExtraData,
        ulong? Clock, uint? ResetCount, uint? RestartCount, bool? Safe, ulong? FirmwareVersion, string? PcrSelection, string? PcrDigest,
        string? ComputedPcrDigest, string SignatureScheme, List<PcrValue>? Pcrs);
}

/// <summary>Loads checkquote's inputs in every form tpm2-tools and go-tpm produce.</summary>
internal static class QuoteInputs
{
    public static TpmtPublic LoadPublicKey(byte[] bytes, string name, TpmtSignature signature)
    {
        if (bytes.AsSpan().IndexOf("-----BEGIN"u8) >= 0)
        {
            string pem = System.Text.Encoding.ASCII.GetString(bytes);
            var scheme = new TpmtScheme(signature.SigAlg, signature.Hash);
            try
            {
                if (signature.IsEcc)
                {
                    using var ecdsa = ECDsa.Create();
                    ecdsa.ImportFromPem(pem);
                    return TpmtPublic.FromPublicKey(ecdsa, scheme);
                }

                using var rsa = RSA.Create();
                rsa.ImportFromPem(pem);
                return TpmtPublic.FromPublicKey(rsa, scheme);
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException or NotSupportedException)
            {
                throw new CliException(ExitCode.BadInput, $"{name} is not a {(signature.IsEcc ? "ECC" : "RSA")} PEM public key matching the signature: {e.Message}");
            }
        }

        try
        {
            return TpmtPublic.ParseEither(bytes);
        }
        catch (TpmFormatException e)
        {
            throw new CliException(ExitCode.BadInput, $"{name} is neither a TPM2B_PUBLIC, a TPMT_PUBLIC nor PEM: {e.Message}");
        }
    }

    /// <summary>tpm2-tools accepts the qualifying data as hex or as a path to a file holding it.</summary>
    public static byte[] ParseQualification(string value)
    {
        if (File.Exists(value))
            return File.ReadAllBytes(value);
        string hex = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? value[2..] : value;
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new CliException(ExitCode.BadInput, $"qualifying data '{value}' is neither hex nor an existing file.");
        }
    }
}
