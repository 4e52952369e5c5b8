// tl-vtpm: one TPM 2.0 per VM — libtpms behind the swtpm socket protocol, state sealed in one file.
using TrustedLaunch.VTpm.Host;
using TrustedLaunch.VTpm.Host.Swtpm;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// The swtpm-compatible verbs the libvirt shims exec (tl interop install-swtpm-shims).
if (SwtpmVerbs.TryRun(args) is int swtpmExit)
    return swtpmExit;

try
{
    HostCommandLine options = HostCommandLine.Parse(args);
    using var host = new VTpmHostProcess(options);
    return host.Run();
}
catch (UsageException e)
{
    if (e.Message is { Length: > 0 } message && e.Message != new UsageException().Message)
        await Console.Error.WriteLineAsync($"tl-vtpm: {message}").ConfigureAwait(false);
    await Console.Error.WriteLineAsync(HostCommandLine.Usage).ConfigureAwait(false);
    return 2;
}
