using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.HostAgent.Tests.Vms;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.Images;
using TrustedLaunch.Images.Agent;
using TrustedLaunch.Testing;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.HostAgent.Tests.Lifecycle;

/// <summary>A host's data folder with its key, a platform CA and Trusted Launch VMs made by the real provisioner (qemu-img, libtpms).</summary>
public sealed class LifecycleHost
{
    /// <summary>The tests that manufacture vTPMs in this process run one after another: libtpms is one per process.</summary>
    public const string Collection = "lifecycle (in-process libtpms)";

    private LifecycleHost(string root)
    {
        Root = root;
        Options = new HostAgentOptions
        {
            Server = new Uri("http://127.0.0.1:9"),
            HostName = "lifecycle",
            DataDirectory = Path.Combine(root, "data"),
            CaDirectory = Path.Combine(root, "pki"),
            VTpmProgram = Path.Combine(AppContext.BaseDirectory, "tl-vtpm"),
        };
        Ca = FilePlatformCa.Create(Options.CaDirectory, "TrustedLaunch test");
        HostKeyPath = HostKey.Ensure(Options.HostDirectory);
        Image = Path.Combine(root, "image.raw");
        File.WriteAllBytes(Image, new byte[1024 * 1024]);
    }

    public string Root { get; }

    public HostAgentOptions Options { get; }

    public FilePlatformCa Ca { get; }

    public string HostKeyPath { get; }

    public string Image { get; }

    public string Snapshots => Path.Combine(Options.DataDirectory, "snapshots");

    public static LifecycleHost Fresh() => new(RepositoryPaths.NewTempDirectory("tl-lifecycle"));

    /// <summary>The Debian test image with the guest agent, built once and cached (the real-boot lifecycle tests share it).</summary>
    public static DebianImage AgentImage()
    {
        string cache = RepositoryPaths.TestImageCache;
        return DebianImageBuilder.Build(new DebianImageRequest
        {
            GuestAgent = GuestAgentPublisher.Publish(RepositoryPaths.RepositoryRoot, Path.Combine(cache, "guest-agent")),
            ImageCache = Path.Combine(cache, "images"),
            PackageCache = Path.Combine(cache, "debs"),
        });
    }

    public VmFolder Folder(Guid vmId) => new(Options.VmsDirectory, Options.RunRoot, vmId);

    /// <summary>A new Trusted Launch VM's folder; returns it with its vTPM identity keys.</summary>
    public (VmFolder Folder, IReadOnlyList<VTpmKeyReport> Keys) NewVm(int? diskSizeGB = null)
    {
        VmFolder folder = Folder(Guid.NewGuid());
        IReadOnlyList<VTpmKeyReport> keys = VmProvisioner.Create(folder, VTpmStateLockedTests.Spec(Image) with { OsDiskSizeGB = diskSizeGB }, HostKeyPath, () => Ca);
        return (folder, keys);
    }
}

/// <summary>The real <c>tl-vtpm</c> on a VM's VMGS (as the runtime starts it, plus a data socket), driven by tpm2-tools.</summary>
public sealed class VmgsVTpm : IDisposable
{
    private readonly Process _process;
    private readonly string _socket;

    private VmgsVTpm(Process process, string socket)
    {
        _process = process;
        _socket = socket;
    }

    public static VmgsVTpm Start(string vmgs, string kek)
    {
        string work = RepositoryPaths.NewTempDirectory("tl-lc-vtpm");
        string socket = Path.Combine(work, "tpm.sock");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "tl-vtpm.dll"), "socket", "--tpm2", "--vmgs", vmgs, "--kek-file", kek,
            "--server", $"type=unixio,path={socket}", "--ctrl", $"type=unixio,path={socket}.ctrl", "--flags", "not-need-init,startup-clear",
        })
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"tl-vtpm exited with {process.ExitCode}: {process.StandardError.ReadToEnd()}");
            if (File.Exists(socket))
            {
                try
                {
                    using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    probe.Connect(new UnixDomainSocketEndPoint(socket));
                    return new VmgsVTpm(process, socket);
                }
                catch (SocketException)
                {
                    // not listening yet
                }
            }

            Thread.Sleep(20);
        }

        process.Kill();
        throw new TimeoutException("tl-vtpm did not become ready in 30 s.");
    }

    /// <summary>Runs a tpm2-tools program against this vTPM; asserts success unless told otherwise.</summary>
    public ToolResult Tool(string program, params string[] args) =>
        ExternalTool.Run(program, args, environment: new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = $"swtpm:path={_socket}" }, timeout: TimeSpan.FromSeconds(60));

    public void Must(string program, params string[] args)
    {
        ToolResult result = Tool(program, args);
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', args)}: {result}");
    }

    /// <summary>The bytes of an NV index (null when the index is not defined).</summary>
    public byte[]? NvRead(uint index, string outFile)
    {
        ToolResult result = Tool("tpm2_nvread", string.Create(CultureInfo.InvariantCulture, $"0x{index:X8}"), "-C", "o", "-o", outFile);
        return result.ExitCode == 0 ? File.ReadAllBytes(outFile) : null;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            ExternalTool.Run("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            if (!_process.WaitForExit(TimeSpan.FromSeconds(15)))
                _process.Kill();
        }

        _process.WaitForExit();
        _process.Dispose();
    }
}

[CollectionDefinition(LifecycleHost.Collection)]
public sealed class LifecycleTestGroup;
