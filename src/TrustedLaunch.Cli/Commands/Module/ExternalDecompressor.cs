using System.Diagnostics;
using System.IO.Compression;

namespace TrustedLaunch.Cli.Commands.Module;

/// <summary>
/// Decompresses xz/zstd (no decoder in the BCL; we call the distribution's xz/zstd rather than carry a managed port) and
/// gzip (BCL). Only the CLI does this; the libraries take decompressed bytes.
/// </summary>
internal static class ExternalDecompressor
{
    private const long MaxOutput = 1L << 30;

    public static byte[] Decompress(string format, ReadOnlyMemory<byte> data)
    {
        switch (format)
        {
            case "gzip":
                using (var input = new GZipStream(new MemoryStream(data.ToArray()), CompressionMode.Decompress))
                    return ReadBounded(input);
            case "xz":
                return Run("xz", ["-dc", "--single-stream", "-q"], data);
            case "zstd":
                return Run("zstd", ["-dc", "-q"], data);
            default:
                throw new CliException(ExitCode.BadInput, $"Cannot decompress {format} data.");
        }
    }

    private static byte[] Run(string tool, string[] arguments, ReadOnlyMemory<byte> data)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments)
            psi.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new CliException(ExitCode.EnvironmentProblem, $"Could not start {tool}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CliException(ExitCode.EnvironmentProblem, $"{tool} is needed to decompress this file but is not installed: {e.Message}");
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var writer = Task.Run(() =>
            {
                try
                {
                    process.StandardInput.BaseStream.Write(data.Span);
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // The decompressor stopped reading (trailing data after the stream); its exit code tells.
                }
            });
            byte[] output = ReadBounded(process.StandardOutput.BaseStream);
            writer.Wait();
            process.WaitForExit();
            if (process.ExitCode != 0 && output.Length == 0)
                throw new CliException(ExitCode.BadInput, $"{tool} could not decompress the data: {stderr.Result.Trim()}");
            return output;
        }
    }

    private static byte[] ReadBounded(Stream input)
    {
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = input.Read(buffer)) > 0)
        {
            if (output.Length + read > MaxOutput)
                throw new CliException(ExitCode.BadInput, "Decompressed data exceeds 1 GiB.");
            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }
}
