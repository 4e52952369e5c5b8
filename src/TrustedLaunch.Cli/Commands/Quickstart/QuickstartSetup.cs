using System.CommandLine;
using System.Text.Json;
using TrustedLaunch.Cli.Commands.Image;
using TrustedLaunch.Cli.Commands.Vmgs;
using TrustedLaunch.HostSystem;
using TrustedLaunch.HostSystem.Processes;
using TrustedLaunch.Images;
using TrustedLaunch.Images.Agent;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Cli.Commands.Quickstart;

/// <summary>A new VM's files under <c>TL_HOME/vms/&lt;id&gt;/</c>: its KEK, its VMGS and its disk (an overlay on the cached image).</summary>
internal sealed record QuickstartVm(Guid Id, string Directory, string KekPath, string VmgsPath, string DiskPath, VTpmIdentity VTpm);

/// <summary>
/// The steps before the boot, each reusing what is already there: OS packages (scripts/install-deps.sh, which installs only
/// what dpkg reports missing), the Debian image with the guest agent (cached by package versions and agent source hash), the
/// platform PKI (created once under <c>TL_HOME/pki</c>), then one new VM.
/// </summary>
internal static class QuickstartSetup
{
    public static void EnsurePackages(Action<string> progress, TextWriter error)
    {
        string? source = GuestAgentPublisher.FindSourceRoot();
        string? script = source is null ? null : Path.Combine(source, "scripts", "install-deps.sh");
        if (script is not null && File.Exists(script))
        {
            progress("packages: scripts/install-deps.sh (installs only what dpkg reports missing)");
            ToolRun run = RunTool("bash", [script], inheritOutput: true, error);
            if (run.ExitCode != 0)
                throw new CliException(ExitCode.EnvironmentProblem, $"scripts/install-deps.sh failed with exit code {run.ExitCode}; install the packages it names and retry.");
            return;
        }

        // An installed tl without its source tree: check the programs the VM needs rather than guess package names.
        foreach ((string program, string package) in new[] { ("qemu-system-x86_64", "qemu-system-x86"), ("qemu-img", "qemu-utils") })
        {
            if (ExecutableSearch.Find(program) is null)
                throw new CliException(ExitCode.EnvironmentProblem, $"{program} is not installed (apt install {package}).");
        }
    }

    public static DebianImage EnsureImage(Action<string> progress)
    {
        var report = new SynchronousProgress(line => progress($"image: {line}"));
        string? source = GuestAgentPublisher.FindSourceRoot();
        string? agent = source is not null
            ? GuestAgentPublisher.Publish(source, progress: report)
            : ExecutableSearch.Find(GuestAgentPublisher.BinaryName);
        if (agent is null)
            progress("image: no tl-guest-agent (not in a source tree, not on PATH): the VM boots without attestation");
        return DebianImageBuilder.Build(new DebianImageRequest { GuestAgent = agent }, report);
    }

    public static FilePlatformCa EnsurePki(string directory, Action<string> progress)
    {
        try
        {
            if (File.Exists(PlatformCaLayout.CertificatePath(directory, PlatformCaLayout.RootName)))
            {
                progress($"pki: using {directory}");
                return FilePlatformCa.Open(directory);
            }

            progress($"pki: creating the platform CA in {directory} (root, vTPM EK CA, vTPM AK CA)");
            return FilePlatformCa.Create(directory, "TrustedLaunch");
        }
        catch (PlatformCaException e)
        {
            throw new CliException(ExitCode.BadInput, $"platform PKI {directory}: {e.Message}", e);
        }
    }

    /// <summary>A KEK, a VMGS from the Microsoft template (through <c>tl vmgs create</c> itself) and a disk overlay.</summary>
    public static QuickstartVm CreateVm(string vmsRoot, string pki, DebianImage image, Action<string> progress, TextWriter error)
    {
        var id = Guid.NewGuid();
        string dir = Path.Combine(vmsRoot, id.ToString());
        if (OperatingSystem.IsWindows())
            throw new CliException(ExitCode.EnvironmentProblem, "Trusted Launch VMs run on Linux hosts (QEMU/KVM).");
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // holds the VM's KEK
        string kek = Path.Combine(dir, "host.kek");
        string vmgs = Path.Combine(dir, "vm.vmgs");
        progress($"vm {id}: guest state (Secure Boot template {SecureBootTemplates.Microsoft}: Microsoft's 2011 and 2023 CAs; freshly manufactured vTPM) in {vmgs}");
        VTpmIdentity vtpm;
        try
        {
            vtpm = VmgsCreateCommand.CreateFile(vmgs, kek, createKey: true, id, SecureBootTemplates.Microsoft, pk: null, kek: [], db: [], twoMegabytes: false, pki);
        }
        catch (Exception e) when (CliErrors.Translate(e) is { } failure)
        {
            // What 'tl vmgs create' would say, then which step of the quickstart it stopped.
            error.WriteLine($"tl: {failure.Message}");
            throw new CliException(failure.Code, $"creating the guest state {vmgs} failed (exit {(int)failure.Code}).", e);
        }

        // The cached image stays pristine: the VM writes to its own qcow2 overlay, which lives and dies with its VMGS.
        string disk = Path.Combine(dir, "disk.qcow2");
        ToolRun overlay = RunTool("qemu-img", ["create", "-q", "-f", "qcow2", "-b", image.RawPath, "-F", "raw", disk], inheritOutput: false, error);
        if (overlay.ExitCode != 0)
            throw new CliException(ExitCode.EnvironmentProblem, $"qemu-img create {disk}: {overlay.StandardError.Trim()}");
        return new QuickstartVm(id, dir, kek, vmgs, disk, vtpm);
    }

    private sealed record ToolRun(int ExitCode, string StandardError);

    private static ToolRun RunTool(string program, IReadOnlyList<string> arguments, bool inheritOutput, TextWriter error)
    {
        string path = ExecutableSearch.Find(program) ?? throw new CliException(ExitCode.EnvironmentProblem, $"{program} is not installed.");
        try
        {
            // Child output is progress, not the report: stdout goes to our stderr.
            ProcessResult result = ExternalProcess.Run(path, arguments,
                new ProcessRunOptions { StandardOutputCopy = error, InheritStandardError = inheritOutput });
            return new ToolRun(result.ExitCode, result.StandardError);
        }
        catch (ProgramStartException e)
        {
            throw new CliException(ExitCode.EnvironmentProblem, $"{program} did not start.", e);
        }
    }
}
