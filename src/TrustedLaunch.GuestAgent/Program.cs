using System.Text;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestAgent;
using TrustedLaunch.GuestChannel.Messages;

// tl-guest-agent: exit 0 on SIGTERM/SIGINT, 2 for a bad command line, 1 when --collect fails.
AgentOptions options;
string? collectNonce;
try
{
    if (args is ["--help"] or ["-h"])
    {
        Console.Out.WriteLine(AgentOptions.Usage);
        return 0;
    }

    if (args is ["--version"])
    {
        Console.Out.WriteLine($"tl-guest-agent {AgentOptions.Version}");
        return 0;
    }

    options = AgentOptions.Parse(args, out collectNonce);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"tl-guest-agent: {e.Message}\n{AgentOptions.Usage}");
    return 2;
}

using var agent = new AttestationAgent(options);
if (collectNonce is not null)
{
    byte[] nonce;
    try
    {
        nonce = Convert.FromHexString(collectNonce);
    }
    catch (FormatException)
    {
        Console.Error.WriteLine("tl-guest-agent: --collect needs the nonce in hex.");
        return 2;
    }

    GuestMessage answer = await agent.AnswerAsync(GuestMessageCodec.Encode(new AttestRequest(1, nonce)), CancellationToken.None);
    if (answer is not EvidenceMessage evidence)
    {
        Console.Error.WriteLine($"tl-guest-agent: {(answer as ErrorMessage)?.Message ?? answer.Type}");
        return 1;
    }

    Console.Out.WriteLine(Encoding.UTF8.GetString(EvidenceJson.Serialize(evidence.Evidence)));
    return 0;
}

using var stop = new CancellationTokenSource();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
Console.Error.WriteLine($"tl-guest-agent {AgentOptions.Version}: channel {options.Channel}, TPM {options.Tpm}, heartbeat {options.HeartbeatInterval.TotalSeconds:0.#} s");
await agent.RunAsync(stop.Token);
return 0;
