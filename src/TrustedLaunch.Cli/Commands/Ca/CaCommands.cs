using System.CommandLine;
using System.Text.Json.Serialization;
using TrustedLaunch.HostSystem;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Cli.Commands.Ca;

internal static class CaCommands
{
    public static Command Create()
    {
        var command = new Command("ca", "The platform PKI (root, vTPM EK and AK CAs).");
        command.Subcommands.Add(CreateInit());
        return command;
    }

    private static Command CreateInit()
    {
        var directory = new Argument<string>("DIR") { Description = "Folder for the CA files (created; must not already hold a CA)." };
        var organization = new Option<string>("--organization") { Description = "Organization named in the CA subjects.", DefaultValueFactory = _ => "TrustedLaunch" };
        var json = CliOptions.Json();
        var command = new Command("init", "Create a root CA, a vTPM EK CA and a vTPM AK CA (ECDSA P-384; keys mode 0600). Exit 0 ok, 2 DIR already holds a CA.")
        {
            directory, organization, json,
        };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(directory)!;
            FilePlatformCa ca = FilePlatformCa.Create(dir, parse.GetValue(organization)!);

            var result = new CaInit(
                Path.GetFullPath(dir),
                Describe(ca.RootCertificate, PlatformCaLayout.RootName, dir),
                Describe(ca.EndorsementKeyCa.Certificate, PlatformCaLayout.EndorsementKeyCaName, dir),
                Describe(ca.AttestationKeyCa.Certificate, PlatformCaLayout.AttestationKeyCaName, dir));
            if (parse.GetValue(json))
            {
                CliJson.Write(result, CaJsonContext.Shapes.CaInit, parse.Out());
            }
            else
            {
                parse.Out().WriteLine($"Platform PKI created in {result.directory}");
                foreach (var ca2 in new[] { result.root, result.endorsementKeyCa, result.attestationKeyCa })
                    parse.Out().WriteLine($"  {ca2.subject}\n    certificate {ca2.certificate}\n    key         {ca2.key} (mode 0600)");
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static CaFiles Describe(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, string name, string dir) =>
        new(certificate.Subject, Path.GetFullPath(PlatformCaLayout.CertificatePath(dir, name)), Path.GetFullPath(PlatformCaLayout.KeyPath(dir, name)),
            certificate.NotAfter.ToUniversalTime());

}

#pragma warning disable IDE1006 // camelCase members: they are the JSON field names
internal sealed record CaInit(string directory, CaFiles root, CaFiles endorsementKeyCa, CaFiles attestationKeyCa);

internal sealed record CaFiles(string subject, string certificate, string key, DateTime notAfter);
#pragma warning restore IDE1006

/// <summary>The <c>tl ca init --json</c> contract.</summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(CaInit))]
internal sealed partial class CaJsonContext : JsonSerializerContext
{
    public static CaJsonContext Shapes { get; } = new(CliJson.ContextOptions());
}
