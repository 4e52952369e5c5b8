namespace TrustedLaunch.Images.Agent;

/// <summary>One shared object a dynamically linked program needs: where the loader looks for it, and the host file.</summary>
public sealed record SharedLibrary(string GuestPath, string HostPath);

/// <summary>
/// The shared libraries a host executable needs at run time, from <c>ldd</c> (glibc's loader in list mode), so the
/// guest initramfs can carry exactly those (the busybox guest has no libc of its own).
/// </summary>
public static class SharedLibraries
{
    /// <summary>Runs ldd on <paramref name="executable"/>; an empty list for a static executable.</summary>
    public static IReadOnlyList<SharedLibrary> Of(string executable)
    {
        string output;
        try
        {
            output = ExternalCommand.Run("ldd", "libc-bin", [executable]);
        }
        catch (ImageException e) when (e.Message.Contains("not a dynamic executable", StringComparison.Ordinal))
        {
            return [];
        }

        return Parse(output);
    }

    /// <summary>
    /// OpenSSL 3 for the guest agent: .NET's crypto shim is linked into the NativeAOT binary, but it <c>dlopen</c>s
    /// <c>libssl.so.3</c> by soname at first use (AES-GCM of a bound token, ECDSA/RSA of its signature), so ldd of the
    /// agent does not list it. Returns libssl from the host's multiarch directory plus what ldd reports for it
    /// (libcrypto.so.3, libc, the loader), at the same paths the guest's loader searches.
    /// </summary>
    public static IReadOnlyList<SharedLibrary> OpenSsl(IReadOnlyList<string>? directories = null)
    {
        const string Soname = "libssl.so.3";
        string? path = (directories ?? ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"])
            .Select(d => Path.Combine(d, Soname)).FirstOrDefault(File.Exists);
        if (path is null)
        {
            throw new ImageException(ImageFailure.Environment,
                $"{Soname} (OpenSSL 3) is not installed on this host; the guest agent needs it to open bound tokens (apt-get install libssl3).");
        }

        return [new SharedLibrary(path, path), .. Of(path)];
    }

    /// <summary>The libraries of several lists, each guest path once, in first-seen order.</summary>
    public static IReadOnlyList<SharedLibrary> Merge(params IReadOnlyList<SharedLibrary>[] lists) =>
        lists.SelectMany(l => l).DistinctBy(l => l.GuestPath, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Parses ldd output: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" (searched by name, found at that path) and
    /// "/lib64/ld-linux-x86-64.so.2 (0x…)" (the interpreter, loaded by its absolute path). linux-vdso has no file.
    /// </summary>
    public static IReadOnlyList<SharedLibrary> Parse(string lddOutput)
    {
        ArgumentNullException.ThrowIfNull(lddOutput);
        var result = new List<SharedLibrary>();
        foreach (string raw in lddOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string line = raw;
            int paren = line.LastIndexOf(" (0x", StringComparison.Ordinal);
            if (paren > 0)
                line = line[..paren];
            int arrow = line.IndexOf(" => ", StringComparison.Ordinal);
            string path = arrow >= 0 ? line[(arrow + 4)..].Trim() : line.Trim();
            if (path.Contains("not found", StringComparison.Ordinal))
                throw new ImageException(ImageFailure.Environment, $"ldd: a library the guest agent needs is missing on this host: {raw}");
            if (!path.StartsWith('/'))
                continue; // linux-vdso.so.1: provided by the kernel
            result.Add(new SharedLibrary(path, path));
        }

        return result;
    }
}
