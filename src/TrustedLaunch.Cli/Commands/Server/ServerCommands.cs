using System.CommandLine;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Server;

namespace TrustedLaunch.Cli.Commands.Server;

/// <summary><c>tl server</c>: runs the attestation service; <c>tl server vm …</c> manages the VMs it attests.</summary>
internal static class ServerCommands
{
    public static Command Create()
    {
        var data = CliOptions.Data();
        var listen = new Option<string>("--listen")
        {
            Description = $"http:// URL to listen on (default {AttestationServiceOptions.DefaultListen}: loopback only; port 0 picks a free port).",
            DefaultValueFactory = _ => AttestationServiceOptions.DefaultListen,
        };
        var ca = CliOptions.OptionalCa("Platform CA folder ('tl ca init'): its vTPM AK CA is trusted for VMs registered without their own --ca.");
        var tokenAlg = new Option<string>("--token-alg") { Description = "Token signature algorithm.", DefaultValueFactory = _ => "ES256" };
        tokenAlg.AcceptOnlyFromAmong("ES256", "RS256");
        var issuer = new Option<string?>("--issuer") { Description = "Token issuer (iss) and OpenID issuer; default: the URL the service listens on." };
        var nonceLifetime = new Option<int>("--nonce-lifetime") { Description = "Seconds a challenge nonce stays valid.", DefaultValueFactory = _ => 300 };
        var command = new Command("server",
            "Run the attestation service (challenges, evidence, results, tokens, JWKS) until Ctrl-C or SIGTERM. Exit 0 stopped cleanly, 2 bad option, 3 cannot start (port in use, database unusable).")
        {
            data, listen, ca, tokenAlg, issuer, nonceLifetime,
        };
        command.Subcommands.Add(VmCommands.Create());
        command.Subcommands.Add(PolicyCommands.Create());
        command.SetAction(async (parse, cancellationToken) =>
        {
            int lifetime = parse.GetValue(nonceLifetime);
            if (lifetime is < 1 or > 86_400)
                throw new CliException(ExitCode.BadInput, "--nonce-lifetime must be 1..86400 seconds.");
            var options = new AttestationServiceOptions
            {
                DataDirectory = Path.GetFullPath(parse.GetValue(data) ?? TlHome.Path),
                Listen = parse.GetValue(listen)!,
                CaDirectory = parse.GetValue(ca) is string caDir ? Path.GetFullPath(caDir) : null,
                TokenAlgorithm = parse.GetValue(tokenAlg)!,
                Issuer = parse.GetValue(issuer),
                NonceLifetime = TimeSpan.FromSeconds(lifetime),
            };
            WebApplication app = Build(options);
            await using (app.ConfigureAwait(false))
            {
                try
                {
                    await app.StartAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e) when (e.InnerException is SocketException || e.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
                {
                    throw new CliException(ExitCode.EnvironmentProblem, $"Cannot listen on {options.Listen}: {e.Message}");
                }

                parse.Error().WriteLine($"tl server: listening on {string.Join(", ", AttestationServiceHost.BoundAddresses(app.Services))}; Ctrl-C to stop.");
                await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static WebApplication Build(AttestationServiceOptions options)
    {
        try
        {
            return AttestationServiceHost.Build(options);
        }
        catch (ArgumentException e)
        {
            throw new CliException(ExitCode.BadInput, e.Message); // an option the service refuses (listen URL, issuer)
        }
    }
}
