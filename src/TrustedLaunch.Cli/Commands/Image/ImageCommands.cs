using System.CommandLine;
using TrustedLaunch.Images;
using TrustedLaunch.Images.Agent;
using TrustedLaunch.Images.Grub;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Cli.Commands.Image;

internal static class ImageCommands
{
    public static Command Create()
    {
        var command = new Command("image", ServiceVerbs.Description(ServiceVerb.Image));
        command.Subcommands.Add(CreateBuild());
        command.Subcommands.Add(CreateInspect());
        command.Subcommands.Add(ImageRegisterCommand.Create());
        return command;
    }

    private static Command CreateBuild()
    {
        var distribution = new Argument<string>("distribution") { Description = "The guest to build: debian-12." };
        var output = new Option<string?>("--out") { Description = "Write the image here (default: print the cached image's path)." };
        var format = new Option<string>("--format") { Description = "Format of --out: qcow2 or raw.", DefaultValueFactory = _ => "qcow2" };
        format.AcceptOnlyFromAmong("qcow2", "raw");
        var unsignedGrub = new Option<bool>("--unsigned-grub") { Description = "Deliberately untrusted: grubx64.efi without its signature (shim refuses it under Secure Boot)." };
        var unsignedShim = new Option<bool>("--unsigned-shim") { Description = "Deliberately untrusted: BOOTX64.EFI (shim) without its signature (the firmware refuses it)." };
        var agent = new Option<string?>("--agent") { Description = "A tl-guest-agent binary to include as /usr/bin/tl-guest-agent (default: published from this source tree, NativeAOT, cached by source hash)." };
        var noAgent = new Option<bool>("--no-agent") { Description = "Build the image without the guest attestation agent." };
        var kernelArgs = new Option<string?>("--kernel-args") { Description = $"Extra kernel command-line arguments, appended to '{DebianImageRequest.DefaultKernelCommandLine}' (one line)." };
        var grubLoader = new Option<string>("--grub-loader")
        {
            Description = "GRUB commands that load the kernel: linux (Debian's; without Secure Boot the kernel then gets no TCG event log) or linuxefi (always the kernel's EFI stub).",
            DefaultValueFactory = _ => "linux",
        };
        grubLoader.AcceptOnlyFromAmong("linux", "linuxefi");
        var generation = new Option<int>("--generation")
        {
            Description = "2: GPT + ESP, signed shim and GRUB for UEFI (Trusted Launch capable); 1: MBR, GRUB for BIOS (SeaBIOS boots it; Standard VMs only).",
            DefaultValueFactory = _ => 2,
        };
        generation.AcceptOnlyFromAmong("1", "2");
        var data = CliOptions.Data();
        var json = CliOptions.Json();
        var command = new Command("build",
            "Build a bootable disk (Generation 2: GPT + ESP with Debian's signed shim, GRUB and kernel; Generation 1: MBR + GRUB for BIOS), busybox initramfs; " +
            "cached under TL_HOME/images, and offered in the image catalog of the service whose database is in TL_HOME (--data).")
        {
            distribution, output, format, unsignedGrub, unsignedShim, agent, noAgent, kernelArgs, grubLoader, generation, data, json,
        };
        command.SetAction(parse =>
        {
            string name = parse.GetValue(distribution)!;
            if (name != DebianImageBuilder.Distribution)
                throw new CliException(ExitCode.BadInput, $"Unknown distribution '{name}'; supported: {DebianImageBuilder.Distribution}.");
            if (parse.GetValue(unsignedGrub) && parse.GetValue(unsignedShim))
                throw new CliException(ExitCode.BadInput, "--unsigned-grub and --unsigned-shim are exclusive.");
            string? agentPath = parse.GetValue(agent);
            if (agentPath is not null && parse.GetValue(noAgent))
                throw new CliException(ExitCode.BadInput, "--agent and --no-agent are exclusive.");
            if (agentPath is not null && !File.Exists(agentPath))
                throw new CliException(ExitCode.BadInput, $"Guest agent {agentPath} does not exist.");
            var progress = new SynchronousProgress(line => parse.Error().WriteLine($"tl image: {line}"));
            if (agentPath is null && !parse.GetValue(noAgent))
                agentPath = LocateGuestAgent(progress);
            var request = new DebianImageRequest
            {
                Untrusted = parse.GetValue(unsignedGrub) ? UntrustedComponent.Grub : parse.GetValue(unsignedShim) ? UntrustedComponent.Shim : UntrustedComponent.None,
                GuestAgent = agentPath,
                KernelCommandLine = parse.GetValue(kernelArgs) is { Length: > 0 } extra ? $"{DebianImageRequest.DefaultKernelCommandLine} {extra}" : DebianImageRequest.DefaultKernelCommandLine,
                KernelLoader = parse.GetValue(grubLoader) == "linuxefi" ? GrubKernelLoader.LinuxEfi : GrubKernelLoader.Linux,
                Generation = parse.GetValue(generation),
            };
            DebianImage image = DebianImageBuilder.Build(request, progress);
            ImageRegisterCommand.OfferBuiltImage(image, parse.GetValue(data), progress);
            string result = image.RawPath;
            string? outPath = parse.GetValue(output);
            if (outPath is not null)
            {
                string fmt = parse.GetValue(format)!;
                DebianImageBuilder.Export(image, outPath, fmt);
                result = Path.GetFullPath(outPath);
            }

            if (parse.GetValue(json))
                CliJson.Write(new { image = result, cached = image.RawPath, fromCache = image.FromCache, manifest = image.Manifest }, parse.Out());
            else
                parse.Out().WriteLine(result);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    /// <summary>
    /// The agent for the image: published from the source tree tl runs from (cached by source hash), else a
    /// <c>tl-guest-agent</c> installed beside tl or on PATH.
    /// </summary>
    private static string LocateGuestAgent(IProgress<string> progress)
    {
        string? source = GuestAgentPublisher.FindSourceRoot();
        if (source is not null)
            return GuestAgentPublisher.Publish(source, progress: progress);
        string beside = Path.Combine(AppContext.BaseDirectory, GuestAgentPublisher.BinaryName);
        if (File.Exists(beside))
            return beside;
        return HostSystem.ExecutableSearch.Find(GuestAgentPublisher.BinaryName) ?? throw new ImageException(ImageFailure.Environment,
            "No tl-guest-agent: not in a TrustedLaunch source tree, not beside tl, not on PATH. Pass --agent FILE or --no-agent.");
    }

    private static Command CreateInspect()
    {
        var disk = new Argument<string>("disk") { Description = "The disk image (raw or qcow2)." };
        var vars = new Option<string?>("--vars") { Description = "Variable store to judge EFI binaries against (a VM's, e.g. from tl vmgs export)." };
        var template = new Option<string?>("--template")
        {
            Description = "Judge EFI binaries against a template's db/dbx instead: microsoft (2011 + 2023 CAs), microsoft-2023 or microsoft-2011. Without --vars or --template nothing is judged.",
        };
        template.AcceptOnlyFromAmong(SecureBootTemplates.Microsoft, SecureBootTemplates.Microsoft2023, SecureBootTemplates.Microsoft2011);
        var json = CliOptions.Json();
        var command = new Command("inspect", "Show a disk's partitions, the ESP's boot files and, per EFI binary, whether Secure Boot will let it start and which db CA admits each signature.")
        {
            disk, vars, template, json,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(disk)!;
            string? templateName = parse.GetValue(template);
            if (!File.Exists(path))
                throw new CliException(ExitCode.BadInput, $"Disk image {path} does not exist.");
            string? varsPath = parse.GetValue(vars);
            if (varsPath is not null && !File.Exists(varsPath))
                throw new CliException(ExitCode.BadInput, $"Variable store {varsPath} does not exist.");
            if (varsPath is not null && templateName is not null)
                throw new CliException(ExitCode.BadInput, "--vars and --template are exclusive: judge against one set of keys.");
            IBootFileVerifier? verifier = templateName is not null
                ? SecureBootVerifierBridge.ForTemplate(templateName)
                : SecureBootVerifierBridge.TryCreate(varsPath);
            ImageInspection inspection = ImageInspector.Inspect(path, verifier);
            if (parse.GetValue(json))
            {
                CliJson.Write(inspection, parse.Out());
                return (int)ExitCode.Ok;
            }

            parse.Out().WriteLine($"{inspection.Disk} ({inspection.Format}), GPT disk {inspection.DiskId}");
            foreach (var p in inspection.Partitions)
            {
                string kind = p.IsEfiSystemPartition ? "EFI System Partition" : p.Type.ToString();
                parse.Out().WriteLine($"  partition {p.Index}: {kind}, LBA {p.FirstLba}-{p.LastLba} ({p.Length / (1024 * 1024)} MiB) \"{p.Name}\"");
            }

            foreach (var f in inspection.EspFiles)
            {
                string verdict = f.IsEfiBinary ? $"  [{f.Verdict ?? "not verified"}{(f.Reason is null ? "" : ": " + f.Reason)}]" : "";
                parse.Out().WriteLine($"  {f.Path,-24} {f.Size,10} sha256:{f.Sha256[..16]}…{verdict}");
                foreach (var s in f.Signatures)
                    parse.Out().WriteLine($"    signature {s.Index}: {s.Outcome}; admitted by: {s.AdmittedBy ?? "none"}; signer: {s.Signer ?? "unknown"}");
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }
}

/// <summary>Reports progress on the calling thread at once (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
internal sealed class SynchronousProgress(Action<string> report) : IProgress<string>
{
    public void Report(string value) => report(value);
}
