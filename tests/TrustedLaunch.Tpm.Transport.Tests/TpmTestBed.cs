using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Swtpm;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;

namespace TrustedLaunch.Tpm.Transport.Tests;

/// <summary>A fresh swtpm, a client for it, a scratch folder, and tpm2-tools pointed at the same TPM.</summary>
public sealed class TpmTestBed : IDisposable
{
    public TpmTestBed(SwtpmOptions? options = null)
    {
        Server = SwtpmProcess.Start(options);
        Client = new TpmClient(new SwtpmSocketTransport(Server.DataEndPoint));
        Control = new SwtpmControlClient(Server.ControlEndPoint);
        Scratch = RepositoryPaths.NewTempDirectory("tl-tpmtest");
    }

    public SwtpmProcess Server { get; }
    public TpmClient Client { get; }
    public SwtpmControlClient Control { get; }
    public string Scratch { get; }

    public string PathOf(string name) => Path.Combine(Scratch, name);

    /// <summary>Runs a tpm2-tools program against this TPM and asserts it succeeded.</summary>
    public ToolResult Tool(string program, params string[] args)
    {
        var result = ExternalTool.Run(program, args, Scratch, Server.ToolEnvironment, TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', args)} failed: {result}");
        return result;
    }

    /// <summary>Runs a tool and returns its result whatever the exit code.</summary>
    public ToolResult TryTool(string program, params string[] args) =>
        ExternalTool.Run(program, args, Scratch, Server.ToolEnvironment, TimeSpan.FromSeconds(60));

    /// <summary>Creates the EK from a TCG template and returns it with a policy session satisfying PolicySecret(endorsement).</summary>
    public CreatePrimaryResult CreateEk(TpmtPublic template) => Client.CreatePrimary(TpmHandles.Endorsement, template);

    public uint StartEkPolicySession()
    {
        var session = Client.StartAuthSession(TpmSe.Policy);
        Client.PolicySecret(TpmHandles.Endorsement, session);
        return session.Handle;
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
        try
        {
            Directory.Delete(Scratch, recursive: true);
        }
        catch (IOException)
        {
            // Scratch leftovers do not fail a test.
        }
    }
}
