using System.IO.Compression;
using TrustedLaunch.HostSystem.Processes;

namespace TrustedLaunch.Cli.Commands.Module;

/// <summary>
/// Decompresses xz/zstd (no decoder in the BCL; we call the distribution's xz/zstd rather than carry a managed port) and
/// gzip (BCL). Only the CLI does this; the libraries take decompressed bytes.
/// </summary>
internal static class ExternalDecompressor
{
    private const long MaxOutput = 1L << 30;
    private const string OutputLimitMessage = "Decompressed data exceeds 1 GiB.";

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
        ProcessResult result;
        try
        {
            result = ExternalProcess.Run(tool, arguments, new ProcessRunOptions { StandardInput = data, MaxStandardOutputBytes = MaxOutput });
        }
        catch (ProgramStartException e)
        {
            throw new CliException(ExitCode.EnvironmentProblem, $"{tool} is needed to decompress this file but is not installed: {e.Message}");
        }
        catch (ProcessOutputLimitException)
        {
            throw new CliException(ExitCode.BadInput, OutputLimitMessage);
        }

        // xz stops at trailing data after the stream with an error, but what it decoded is the module.
        if (result.ExitCode != 0 && result.StandardOutputBytes.Length == 0)
            throw new CliException(ExitCode.BadInput, $"{tool} could not decompress the data: {result.StandardError.Trim()}");
        return result.StandardOutputBytes;
    }

    private static byte[] ReadBounded(Stream input)
    {
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = input.Read(buffer)) > 0)
        {
            if (output.Length + read > MaxOutput)
                throw new CliException(ExitCode.BadInput, OutputLimitMessage);
            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }
}
