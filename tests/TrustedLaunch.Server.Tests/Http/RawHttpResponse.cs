using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace TrustedLaunch.Server.Tests.Http;

/// <summary>
/// Reads one HTTP/1.1 response off a raw stream (RFC 9112 §2–§7: status line, fields, Content-Length or chunked
/// body), for tests that must control exactly which request bytes go out. Skips interim 1xx responses.
/// </summary>
internal static class RawHttpResponse
{
    public static async Task<HttpResponseMessage> ReadAsync(Stream stream)
    {
        var reader = new BufferedLineReader(stream);
        while (true)
        {
            string status = await reader.ReadLineAsync();
            string[] parts = status.Split(' ', 3);
            var code = (HttpStatusCode)int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            var fields = new List<(string Name, string Value)>();
            for (string line = await reader.ReadLineAsync(); line.Length > 0; line = await reader.ReadLineAsync())
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                fields.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }
            if ((int)code < 200)
                continue;

            byte[] body = await ReadBodyAsync(reader, fields);
            var response = new HttpResponseMessage(code) { Content = new ByteArrayContent(body) };
            foreach ((string name, string value) in fields)
            {
                if (!response.Headers.TryAddWithoutValidation(name, value))
                    response.Content.Headers.TryAddWithoutValidation(name, value);
            }
            return response;
        }
    }

    private static async Task<byte[]> ReadBodyAsync(BufferedLineReader reader, List<(string Name, string Value)> fields)
    {
        string? length = fields.FirstOrDefault(f => f.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Value;
        if (length is not null)
            return await reader.ReadExactlyAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture));
        bool chunked = fields.Any(f => f.Name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
            && f.Value.Contains("chunked", StringComparison.OrdinalIgnoreCase));
        if (!chunked)
            return [];
        using var body = new MemoryStream();
        while (true)
        {
            string sizeLine = await reader.ReadLineAsync();
            int size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
            if (size == 0)
            {
                while ((await reader.ReadLineAsync()).Length > 0) { }
                return body.ToArray();
            }
            body.Write(await reader.ReadExactlyAsync(size));
            await reader.ReadLineAsync();
        }
    }

    private sealed class BufferedLineReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[8192];
        private int _start;
        private int _end;

        public async Task<string> ReadLineAsync()
        {
            var line = new StringBuilder();
            while (true)
            {
                byte b = await ReadByteAsync();
                if (b == (byte)'\n')
                    return line.ToString().TrimEnd('\r');
                line.Append((char)b);
            }
        }

        public async Task<byte[]> ReadExactlyAsync(int count)
        {
            byte[] result = new byte[count];
            for (int i = 0; i < count; i++)
                result[i] = await ReadByteAsync();
            return result;
        }

        private async ValueTask<byte> ReadByteAsync()
        {
            if (_start == _end)
            {
                _end = await stream.ReadAsync(_buffer);
                _start = 0;
                if (_end == 0)
                    throw new EndOfStreamException("The service closed the connection before the response ended.");
            }
            return _buffer[_start++];
        }
    }
}
