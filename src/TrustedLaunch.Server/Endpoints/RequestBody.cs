using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace TrustedLaunch.Server.Endpoints;

/// <summary>Reads a request body into memory up to a limit, refusing larger ones before and while reading.</summary>
internal static class RequestBody
{
    /// <summary>The whole body, or null when it is (or announces itself as) larger than <paramref name="limit"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpContext context, long limit, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength is long announced && announced > limit)
            return null;
        if (context.Request.ContentLength is long exact)
            return await ReadExactAsync(context, (int)exact, cancellationToken);
        using var buffer = new MemoryStream(context.Request.ContentLength is long length ? (int)Math.Min(length, limit) : 4096);
        byte[] chunk = new byte[81920];
        while (true)
        {
            int read;
            try
            {
                read = await context.Request.Body.ReadAsync(chunk, cancellationToken);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return null; // Kestrel's own limit (chunked bodies without Content-Length)
            }

            if (read == 0)
                return buffer.ToArray();
            if (buffer.Length + read > limit)
                return null;
            buffer.Write(chunk, 0, read);
        }
    }

    // A body that announced its length (every client of ours does): one array of that size, filled in place, rather
    // than an 80 KB chunk, a growing stream and its copy (the evidence body is ~33 KB per attestation).
    private static async Task<byte[]?> ReadExactAsync(HttpContext context, int length, CancellationToken cancellationToken)
    {
        byte[] body = new byte[length];
        int filled = 0;
        try
        {
            while (true)
            {
                // One byte of room past the end: a body longer than it announced is refused (Kestrel ends it first anyway).
                int read = await context.Request.Body.ReadAsync(filled < length ? body.AsMemory(filled) : new byte[1], cancellationToken);
                if (read == 0)
                    return filled == length ? body : throw new BadHttpRequestException("The request body ended before its Content-Length.");
                if (filled == length)
                    return null;
                filled += read;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
    }

    /// <summary>The string <paramref name="property"/> of a JSON object body; null when the body is not an object or lacks it.</summary>
    /// <exception cref="JsonException">The body is not JSON.</exception>
    public static string? StringProperty(byte[] body, string property)
    {
        using JsonDocument document = JsonDocument.Parse(body, new JsonDocumentOptions { AllowDuplicateProperties = false });
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(property, out JsonElement value)
            && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
    }
}
