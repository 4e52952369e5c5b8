using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Linux.ModuleSignature;

using TrustedLaunch.Cli.Commands.Uefi;

namespace TrustedLaunch.Cli.Commands.Module;

internal static class ModuleCommands
{
    public static Command Create()
    {
        var command = new Command("module", "Linux kernel module signatures.");
        command.Subcommands.Add(CreateVerify());
        command.Subcommands.Add(CreateKernelCerts());
        return command;
    }

    /// <summary><c>tl module verify FILE --cert CERT... [--json]</c>.</summary>
    private static Command CreateVerify()
    {
        var file = new Argument<string>("FILE") { Description = "Kernel module (.ko, or .ko.xz/.ko.zst/.ko.gz: decompressed first, as the kernel checks the decompressed module)." };
        var certs = new Option<string[]>("--cert") { Description = "Certificate (PEM or DER) the kernel trusts; repeat for several (e.g. from 'tl module kernel-certs').", Required = true, AllowMultipleArgumentsPerToken = true };
        var json = CliOptions.Json();
        var command = new Command("verify", "Check a module's appended signature as the kernel would. Exit 0 valid, 1 unsigned/unknown key/bad signature, 2 malformed input.")
        {
            file, certs, json,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            var trusted = LoadCertificates(parse.GetValue(certs)!);
            byte[] module = ReadFile(path);
            string? compression = ModuleSignatureVerifier.CompressionOf(module);
            if (compression is not null)
                module = ExternalDecompressor.Decompress(compression, module);
            var result = ModuleSignatureVerifier.Verify(module, trusted);
            if (parse.GetValue(json))
                CliJson.Write(new ModuleVerifyJson(path, compression, result), ModuleJsonContext.Shapes.ModuleVerifyJson, parse.Out());
            else
                parse.Out().WriteLine($"{result.Status.ToString().ToUpperInvariant()}: {path}\n  {result.Message}");
            return result.Status switch
            {
                ModuleSignatureStatus.Valid => (int)ExitCode.Ok,
                ModuleSignatureStatus.Malformed or ModuleSignatureStatus.Compressed => (int)ExitCode.BadInput,
                _ => (int)ExitCode.VerificationFailed,
            };
        });
        return command;
    }

    /// <summary><c>tl module kernel-certs VMLINUZ [--out DIR] [--json]</c>.</summary>
    private static Command CreateKernelCerts()
    {
        var file = new Argument<string>("VMLINUZ") { Description = "x86 bzImage (signed or not), e.g. /boot/vmlinuz-6.1.0-56-amd64." };
        var outDir = new Option<string?>("--out") { Description = "Write each certificate as DER to this folder (kernel-cert-N.der)." };
        var json = CliOptions.Json("Print the certificates as JSON.");
        var command = new Command("kernel-certs", "List the X.509 certificates built into a kernel image (the module-signing key among them). Exit 2 if not a bzImage.")
        {
            file, outDir, json,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            KernelPayload payload;
            try
            {
                payload = KernelImage.FindPayload(ReadFile(path));
            }
            catch (ModuleSignatureException e)
            {
                throw new CliException(ExitCode.BadInput, $"{path}: {e.Message}");
            }

            var certificates = KernelImage.FindCertificates(ExternalDecompressor.Decompress(payload.Format, payload.Data));
            if (parse.GetValue(outDir) is { } dir)
            {
                Directory.CreateDirectory(dir);
                for (int i = 0; i < certificates.Count; i++)
                    File.WriteAllBytes(Path.Combine(dir, $"kernel-cert-{i}.der"), certificates[i].RawData);
            }

            var rows = certificates.Select((c, i) => new ModuleCertificateJson(i, c.Subject, c.Issuer, c.SerialNumber, Convert.ToHexStringLower(SHA256.HashData(c.RawData)))).ToList();
            if (parse.GetValue(json))
                CliJson.Write(new ModuleCertsJson(path, payload.Format, rows), ModuleJsonContext.Shapes.ModuleCertsJson, parse.Out());
            else
                rows.ForEach(r => parse.Out().WriteLine($"{r.Index}: {r.Subject} (serial {r.SerialNumber}, sha256 {r.Sha256})"));
            return certificates.Count > 0 ? (int)ExitCode.Ok : (int)ExitCode.VerificationFailed;
        });
        return command;
    }

    private static X509Certificate2Collection LoadCertificates(string[] paths)
    {
        var collection = new X509Certificate2Collection();
        foreach (string path in paths)
        {
            byte[] bytes = ReadFile(path);
            try
            {
                if (bytes.AsSpan().IndexOf("-----BEGIN"u8) >= 0)
                    collection.ImportFromPem(System.Text.Encoding.ASCII.GetString(bytes));
                else
                    collection.Add(X509CertificateLoader.LoadCertificate(bytes));
            }
            catch (CryptographicException e)
            {
                throw new CliException(ExitCode.BadInput, $"{path} is not an X.509 certificate (PEM or DER): {e.Message}");
            }
        }

        return collection;
    }

    private static byte[] ReadFile(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new CliException(ExitCode.BadInput, $"File not found: {path}");
        if (info.Length > 256L * 1024 * 1024)
            throw new CliException(ExitCode.BadInput, $"{path} is {info.Length} bytes; larger than any module or kernel image.");
        return File.ReadAllBytes(path);
    }
}
