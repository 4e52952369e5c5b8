using System.CommandLine;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Cli.Commands.Tpm;

/// <summary>
/// <c>tl tpm makecredential</c>: a drop-in for tpm2-tools' <c>tpm2_makecredential -T none</c> (same options, same
/// credential file): wraps a secret for an EK so that only the TPM holding it, with the named key (an AK) loaded,
/// recovers it through TPM2_ActivateCredential (Part 1 §24). No TPM is needed. Exit 0 written, 2 bad input.
/// </summary>
internal static class MakeCredentialCommand
{
    // tpm2-tools' credential file (files_write_header): magic 0xBADCC0DE and version 1, big-endian, then the two TPM2Bs.
    private const uint FileMagic = 0xBADCC0DE;
    private const uint FileVersion = 1;

    public static Command Create()
    {
        var encryptionKey = new Option<FileInfo>("--encryption-key", "-e") { Description = "The EK's public area: TPM2B_PUBLIC (tpm2_createek -u / tpm2_readpublic -o) or bare TPMT_PUBLIC.", Required = true };
        var secret = new Option<FileInfo>("--secret", "-s") { Description = "The secret to protect (at most the EK name algorithm's digest size).", Required = true };
        var name = new Option<string>("--name", "-n") { Description = "The Name of the key the credential is bound to (hex), e.g. the AK's from tpm2_readpublic -n.", Required = true };
        var output = new Option<FileInfo>("--credential-blob", "-o") { Description = "Where to write the credential (tpm2-tools format: header, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET).", Required = true };
        var tcti = new Option<string>("--tcti", "-T") { Description = "Only 'none': the credential is made without a TPM, as tpm2_makecredential -T none does.", DefaultValueFactory = _ => "none" };
        var command = new Command("makecredential",
            "Make a credential for TPM2_ActivateCredential without a TPM (drop-in for tpm2_makecredential -T none). Exit 0 written, 2 bad input.")
        {
            encryptionKey, secret, name, output, tcti,
        };
        command.SetAction(parse => Run(parse.GetValue(encryptionKey)!, parse.GetValue(secret)!, parse.GetValue(name)!, parse.GetValue(output)!,
            parse.GetValue(tcti)!, parse));
        return command;
    }

    private static int Run(FileInfo keyFile, FileInfo secretFile, string nameHex, FileInfo output, string tcti, ParseResult parse)
    {
        if (!tcti.Equals("none", StringComparison.OrdinalIgnoreCase))
            throw new CliException(ExitCode.BadInput, $"--tcti '{tcti}': only 'none' is supported; the credential is made in software.");
        byte[] objectName;
        try
        {
            objectName = Convert.FromHexString(nameHex.Trim());
        }
        catch (FormatException)
        {
            throw new CliException(ExitCode.BadInput, $"--name '{nameHex}' is not hex.");
        }

        TpmtPublic ek;
        try
        {
            ek = TpmtPublic.ParseEither(ReadFile(keyFile, "encryption key"));
        }
        catch (TpmFormatException e)
        {
            throw new CliException(ExitCode.BadInput, $"{keyFile.Name} is not a TPM2B_PUBLIC or TPMT_PUBLIC: {e.Message}");
        }

        MadeCredential made;
        try
        {
            made = CredentialMaker.Make(ek, ReadFile(secretFile, "secret"), objectName);
        }
        catch (ArgumentException e)
        {
            throw new CliException(ExitCode.BadInput, e.Message);
        }

        var writer = new TpmWriter();
        writer.WriteUInt32(FileMagic);
        writer.WriteUInt32(FileVersion);
        writer.WriteSized(made.CredentialBlob);
        writer.WriteSized(made.Secret);
        DurableFile.Write(output.FullName, writer.ToArray(), overwrite: true);
        parse.Out().WriteLine($"Wrote a {made.CredentialBlob.Length}-byte credential and a {made.Secret.Length}-byte encrypted seed to {output.FullName}");
        return (int)ExitCode.Ok;
    }

    private static byte[] ReadFile(FileInfo file, string what) => file.Exists
        ? File.ReadAllBytes(file.FullName)
        : throw new CliException(ExitCode.BadInput, $"The {what} file {file.FullName} does not exist.");
}
