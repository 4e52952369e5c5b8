using System.CommandLine;
using System.Net.Sockets;
using System.Security.Cryptography;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel;
using TrustedLaunch.GuestChannel.Host;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Cli.Commands.Interop;

/// <summary>
/// <c>tl interop collect-evidence</c>: asks the guest agent of a VM this project did not start (a libvirt domain with a
/// <c>&lt;channel type='unix'&gt;</c> on <c>org.trustedlaunch.agent.0</c>) for evidence over a fresh nonce, and writes the
/// bundle for <c>tl attest verify</c>.
/// </summary>
internal static class CollectEvidenceCommand
{
    public static Command Create()
    {
        var socket = new Option<string>("--agent-socket") { Description = "Host side of the VM's agent channel (libvirt: <channel type='unix'><source mode='bind' path=…/>).", Required = true };
        var output = new Option<string>("--out") { Description = "Evidence bundle to write (JSON).", Required = true };
        var nonce = new Option<string?>("--nonce") { Description = "Challenge (hex); default a fresh random 32 bytes, printed for 'tl attest verify --nonce'." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the agent's answer.", DefaultValueFactory = _ => 120 };
        var command = new Command("collect-evidence",
            "Collect attestation evidence (quote, PCRs, TCG event log) from the guest agent of a libvirt-managed VM over its channel socket. " +
            "Exit 0 written, 2 bad input, 3 the agent did not answer.")
        {
            socket, output, nonce, timeout,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            byte[] challenge = parse.GetValue(nonce) is { } hex ? ParseHex(hex) : RandomNumberGenerator.GetBytes(32);
            AttestationEvidence evidence;
            try
            {
                await using GuestAgentConnection agent = await GuestAgentConnection.ConnectAsync(parse.GetValue(socket)!, cancellationToken).ConfigureAwait(false);
                evidence = await agent.RequestEvidenceAsync(challenge, TimeSpan.FromSeconds(parse.GetValue(timeout)), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is GuestChannelException or EvidenceFormatException or IOException or SocketException)
            {
                throw new CliException(ExitCode.EnvironmentProblem, $"the guest agent at {parse.GetValue(socket)} did not give evidence: {e.Message}", e);
            }

            string path = parse.GetValue(output)!;
            DurableFile.Write(path, EvidenceJson.Serialize(evidence), overwrite: true);
            parse.Out().WriteLine($"evidence written to {Path.GetFullPath(path)}; nonce {Convert.ToHexStringLower(challenge)}");
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static byte[] ParseHex(string hex)
    {
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException e)
        {
            throw new CliException(ExitCode.BadInput, $"--nonce '{hex}' is not hexadecimal", e);
        }
    }
}
