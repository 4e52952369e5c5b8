using System.Text;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Interop.Swtpm;

/// <summary>
/// Installs <c>swtpm</c>, <c>swtpm_setup</c> and <c>swtpm_ioctl</c> as small launcher scripts that exec the one
/// multi-call <c>tl-vtpm</c>, into a folder put first on libvirt's <c>$PATH</c> — never over the system's swtpm.
/// </summary>
public static class SwtpmShims
{
    /// <summary>The names libvirt looks up (<c>src/util/virtpm.c</c>), each with the tl-vtpm verb it runs.</summary>
    public static readonly IReadOnlyList<(string Name, string Verb)> Programs =
        [("swtpm", "swtpm"), ("swtpm_setup", "swtpm_setup"), ("swtpm_ioctl", "swtpm_ioctl")];

    /// <summary>The script for one program; swtpm_setup also carries the platform CA folder.</summary>
    public static string Script(string name, string tlVtpmPath, string platformCaDirectory)
    {
        string verb = Programs.Single(p => p.Name == name).Verb;
        var text = new StringBuilder();
        text.Append("#!/bin/sh\n# ").Append(name).Append(" for libvirt: TrustedLaunch tl-vtpm (written by 'tl interop install-swtpm-shims').\n");
        text.Append("exec ").Append(Quote(tlVtpmPath)).Append(' ').Append(verb);
        if (name == "swtpm_setup")
            text.Append(' ').Append(SwtpmSetupArguments.PlatformCaOption).Append(' ').Append(Quote(platformCaDirectory));
        text.Append(" \"$@\"\n");
        return text.ToString();
    }

    /// <summary>Writes the three scripts (mode 0755, durable) into <paramref name="directory"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Install(string directory, string tlVtpmPath, string platformCaDirectory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach ((string name, _) in Programs)
        {
            string path = Path.Combine(directory, name);
            DurableFile.Publish(path, overwrite: true, temporary =>
            {
                File.WriteAllText(temporary, Script(name, tlVtpmPath, platformCaDirectory));
                if (!OperatingSystem.IsWindows())
                    File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            });
            written.Add(path);
        }

        return written;
    }

    /// <summary>POSIX single quotes: the path is taken literally by /bin/sh.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
