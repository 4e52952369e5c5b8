using TrustedLaunch.Interop.Swtpm;
using TrustedLaunch.Storage;
using TrustedLaunch.VTpm.Device;

namespace TrustedLaunch.VTpm.Host.Swtpm;

/// <summary>
/// <c>tl-vtpm swtpm socket …</c>: swtpm's command line (as libvirt passes it) turned into tl-vtpm's own. The state is
/// the sealed file <c>swtpm_setup</c> (our <see cref="SwtpmSetupVerb"/>) put in the <c>--tpmstate dir=</c> folder;
/// a folder without one is refused, never given a fresh TPM.
/// </summary>
internal static class SwtpmSocketVerb
{
    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0] != "socket")
            return SwtpmVerbs.Refuse("swtpm", "the only interface is 'socket' (no chardev/cuse)");
        SwtpmSocketArguments swtpm;
        HostCommandLine options;
        try
        {
            swtpm = SwtpmSocketArguments.Parse(args.Skip(1).ToList());
            if (swtpm.PrintCapabilities)
            {
                Console.Out.WriteLine(SwtpmCapabilityDocument.Socket(SwtpmVerbs.Version));
                return 0;
            }

            options = ToHostCommandLine(swtpm);
        }
        catch (SwtpmArgumentException e)
        {
            return SwtpmVerbs.Refuse("swtpm", e.Message);
        }
        catch (SealingKeyException e)
        {
            return SwtpmVerbs.Refuse("swtpm", e.Message);
        }

        if (swtpm.StateMode is { } mode && File.Exists(options.StatePath))
            File.SetUnixFileMode(options.StatePath!, mode);
        using var host = new VTpmHostProcess(options);
        return host.Run();
    }

    /// <exception cref="SwtpmArgumentException">The folder holds no tl-vtpm state, or an option has no tl-vtpm meaning.</exception>
    internal static HostCommandLine ToHostCommandLine(SwtpmSocketArguments swtpm)
    {
        string directory = swtpm.StateDirectory!;
        string state = SwtpmStateFolder.StatePath(directory);
        if (!File.Exists(state))
            throw new SwtpmArgumentException($"{directory} holds no tl-vtpm state ({SwtpmStateFolder.StateFileName}); run swtpm_setup (the tl-vtpm shim) first — a vTPM never manufactures itself");
        bool notNeedInit = false, disableAutoShutdown = false;
        VTpmStartupMode startup = VTpmStartupMode.None;
        foreach (string flag in swtpm.Flags)
        {
            switch (flag)
            {
                case "not-need-init": notNeedInit = true; break;
                case "startup-clear": startup = VTpmStartupMode.Clear; break;
                case "startup-state": startup = VTpmStartupMode.State; break;
                case "startup-none": startup = VTpmStartupMode.None; break;
                case "disable-auto-shutdown": disableAutoShutdown = true; break;
                default: throw new SwtpmArgumentException($"--flags {flag} is not supported by tl-vtpm");
            }
        }

        bool rejectLocality4 = false;
        foreach (string locality in swtpm.Locality)
        {
            if (locality == "reject-locality-4")
                rejectLocality4 = true;
            else if (locality != "allow-set-locality")
                throw new SwtpmArgumentException($"--locality {locality} is not supported by tl-vtpm");
        }

        byte[]? secret = swtpm.Key?.ReadSealingKey();
        return new HostCommandLine
        {
            StatePath = state,
            Key = secret is null ? null : SealingKey.FromBytes(secret),
            KeyPath = secret is null ? SwtpmStateFolder.KeyPath(directory) : null,
            Control = ToChannel(swtpm.Control!),
            Server = swtpm.Server is null ? null : ToChannel(swtpm.Server),
            PidFile = swtpm.PidFile,
            LogFile = swtpm.LogFile,
            LogLevel = swtpm.LogLevel,
            NotNeedInit = notNeedInit,
            Device = new VTpmDeviceOptions { StartupMode = startup, RejectLocality4 = rejectLocality4, DisableAutoShutdown = disableAutoShutdown },
        };
    }

    private static ChannelSpec ToChannel(SwtpmEndpoint endpoint)
    {
        if (endpoint.UnixPath is not null)
            return new ChannelSpec(endpoint.UnixPath, null, System.Net.IPAddress.Loopback, endpoint.Mode);
        System.Net.IPAddress address = System.Net.IPAddress.Loopback;
        if (endpoint.BindAddress is { } bind && (!System.Net.IPAddress.TryParse(bind, out address!) || !System.Net.IPAddress.IsLoopback(address)))
            throw new SwtpmArgumentException($"bindaddr '{bind}' is not a loopback address; tl-vtpm listens on loopback only");
        return new ChannelSpec(null, endpoint.TcpPort, address, null);
    }
}
