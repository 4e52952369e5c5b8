using System.CommandLine;
using TrustedLaunch.Cli;
using TrustedLaunch.Cli.Commands;

var root = new RootCommand("tl: TrustedLaunch, Secure Boot + vTPM + measured boot and attestation for QEMU/KVM VMs.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);

return await CommandRunner.InvokeAsync(root, args).ConfigureAwait(false);
