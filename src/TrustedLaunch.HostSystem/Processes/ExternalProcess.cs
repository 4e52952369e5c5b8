using System.Diagnostics;
using System.Text;

namespace TrustedLaunch.HostSystem.Processes;

/// <summary>How <see cref="ExternalProcess.Run"/> runs a program; the defaults capture stdout and stderr.</summary>
public sealed record ProcessRunOptions
{
    /// <summary>The child's working directory; null means ours.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables set (or replaced) in the child's environment, on top of ours.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Bytes written to the child's stdin, which is then closed; null gives it a closed stdin.</summary>
    public ReadOnlyMemory<byte>? StandardInput { get; init; }

    /// <summary>Where stdout is copied as it comes instead of being captured (progress passed through).</summary>
    public TextWriter? StandardOutputCopy { get; init; }

    /// <summary>The child writes to our stderr instead of having it captured.</summary>
    public bool InheritStandardError { get; init; }

    /// <summary>More captured stdout than this kills the child and throws <see cref="ProcessOutputLimitException"/>.</summary>
    public long MaxStandardOutputBytes { get; init; } = long.MaxValue;

    /// <summary>A child still running after this is killed (with its descendants) and <see cref="TimeoutException"/> thrown.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>What a finished program returned.</summary>
public sealed record ProcessResult(int ExitCode, byte[] StandardOutputBytes, string StandardError)
{
    /// <summary>stdout as UTF-8 text.</summary>
    public string StandardOutput => Encoding.UTF8.GetString(StandardOutputBytes);
}

/// <summary>
/// Runs a program to completion, forked through <see cref="ProcessSpawner"/> so that it dies with us (util-linux
/// <c>setpriv --pdeathsig</c> when the host has it). The one way TrustedLaunch runs short-lived tools (apt, dpkg-deb,
/// mtools, qemu-img, ldd, xz, dotnet publish).
/// </summary>
public static class ExternalProcess
{
    /// <summary>Runs <paramref name="program"/> (a name looked up on PATH, or a path) and waits for it.</summary>
    /// <exception cref="ProgramStartException">The program is not installed or could not be started.</exception>
    /// <exception cref="ProcessOutputLimitException">It wrote more than <see cref="ProcessRunOptions.MaxStandardOutputBytes"/>.</exception>
    /// <exception cref="TimeoutException">It ran longer than <see cref="ProcessRunOptions.Timeout"/>.</exception>
    public static ProcessResult Run(string program, IEnumerable<string> arguments, ProcessRunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        string[] argumentList = [.. arguments];
        options ??= new ProcessRunOptions();
        string path = ExecutableSearch.Find(program) ?? throw new ProgramStartException(program, $"'{program}' is not installed.");
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = !options.InheritStandardError,
            WorkingDirectory = options.WorkingDirectory ?? System.Environment.CurrentDirectory,
        };
        if (options.Environment is not null)
        {
            foreach (var (key, value) in options.Environment)
                psi.Environment[key] = value;
        }

        using Process process = ProcessSpawner.Start(path, argumentList, psi, ProcessSpawner.FindSetpriv());
        Task<string> stderr = options.InheritStandardError ? Task.FromResult("") : process.StandardError.ReadToEndAsync();
        Task stdin = WriteInputAsync(process, options.StandardInput);
        Task<byte[]> stdout = ReadOutputAsync(process, options);
        Task io = Task.WhenAll(stdout, stdin);
        TimeSpan timeout = options.Timeout ?? System.Threading.Timeout.InfiniteTimeSpan;
        if (!Finished(io, timeout) || !process.WaitForExit(timeout))
        {
            Kill(process);
            throw new TimeoutException($"{program} {string.Join(' ', argumentList)} did not finish in time.");
        }

        io.GetAwaiter().GetResult(); // a reader's failure (output limit) surfaces as itself
        process.WaitForExit();
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.GetAwaiter().GetResult());
    }

    private static bool Finished(Task task, TimeSpan timeout)
    {
        try
        {
            return task.Wait(timeout);
        }
        catch (AggregateException)
        {
            return true; // completed, faulted: the caller rethrows it
        }
    }

    private static async Task WriteInputAsync(Process process, ReadOnlyMemory<byte>? input)
    {
        try
        {
            if (input is { } bytes)
                await process.StandardInput.BaseStream.WriteAsync(bytes).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The program stopped reading (it had all it wanted); its exit code tells how it went.
        }
    }

    private static async Task<byte[]> ReadOutputAsync(Process process, ProcessRunOptions options)
    {
        if (options.StandardOutputCopy is { } copy)
        {
            char[] text = new char[4096];
            int count;
            while ((count = await process.StandardOutput.ReadAsync(text).ConfigureAwait(false)) > 0)
                await copy.WriteAsync(text.AsMemory(0, count)).ConfigureAwait(false);
            return [];
        }

        Stream output = process.StandardOutput.BaseStream;
        using var captured = new MemoryStream();
        byte[] buffer = new byte[81920];
        int read;
        while ((read = await output.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            if (captured.Length + read > options.MaxStandardOutputBytes)
            {
                Kill(process);
                throw new ProcessOutputLimitException($"{Path.GetFileName(process.StartInfo.FileName)} wrote more than {options.MaxStandardOutputBytes} bytes.");
            }

            captured.Write(buffer, 0, read);
        }

        return captured.ToArray();
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited in the meantime.
        }
    }
}

/// <summary>A program wrote more output than its caller accepts.</summary>
public sealed class ProcessOutputLimitException : IOException
{
    public ProcessOutputLimitException() { }

    public ProcessOutputLimitException(string message) : base(message) { }

    public ProcessOutputLimitException(string message, Exception innerException) : base(message, innerException) { }
}
