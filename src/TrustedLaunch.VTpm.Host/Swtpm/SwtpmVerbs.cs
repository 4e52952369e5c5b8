using System.Reflection;

namespace TrustedLaunch.VTpm.Host.Swtpm;

/// <summary>The multi-call entry: <c>tl-vtpm swtpm|swtpm_setup|swtpm_ioctl …</c>, which the installed shims exec.</summary>
internal static class SwtpmVerbs
{
    public static string Version { get; } =
        typeof(SwtpmVerbs).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    /// <summary>Runs the verb named by <paramref name="args"/>[0], or returns null when it is none of the three.</summary>
    public static int? TryRun(string[] args) => args.Length == 0 ? null : args[0] switch
    {
        "swtpm" => SwtpmSocketVerb.Run(args[1..]),
        "swtpm_setup" => SwtpmSetupVerb.Run(args[1..]),
        "swtpm_ioctl" => SwtpmIoctlVerb.Run(args[1..]),
        _ => null,
    };

    /// <summary>swtpm's tools exit 1 on any error, with the reason on stderr (libvirt copies it into its error).</summary>
    public static int Refuse(string program, string message)
    {
        Console.Error.WriteLine($"{program} (tl-vtpm): {message}");
        return 1;
    }
}
