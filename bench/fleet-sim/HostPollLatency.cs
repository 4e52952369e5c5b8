using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TrustedLaunch.Bench;

namespace TrustedLaunch.FleetSim;

/// <summary>
/// <c>--host-polls N</c>: how long a change made through one replica takes to reach a host whose long-poll waits on another.
/// A host registered through the first replica long-polls its assignments there (that replica holds the host's poll
/// claim); N times, a change that wakes every host's poll (a network security group's rules, PUT through the last
/// replica, which rings the NOTIFY doorbell) is made, and the time from sending the PUT to the poll's answer is recorded.
/// </summary>
internal static class HostPollLatency
{
    private const string Host = "latency-host";

    public static async Task<string> RunAsync(HttpClient client, IReadOnlyList<TlServerProcess> replicas, int rounds)
    {
        Uri serving = replicas[0].Address, changing = replicas[^1].Address;
        await SendAsync(client, HttpMethod.Put, new Uri(serving, $"v1/hosts/{Host}"),
            """{"vCpus": 8, "memoryInMB": 16384, "accelerator": "tcg", "agentVersion": "fleet-sim"}""");
        JsonElement subscriptions = await SendAsync(client, HttpMethod.Get, new Uri(changing, "subscriptions?api-version=2022-12-01"), null);
        string group = $"subscriptions/{subscriptions.GetProperty("value")[0].GetProperty("subscriptionId").GetString()}/resourceGroups/latency";
        await SendAsync(client, HttpMethod.Put, new Uri(changing, group + "?api-version=2021-04-01"), """{"location": "westus"}""");
        string token = (await SendAsync(client, HttpMethod.Get, new Uri(serving, $"v1/hosts/{Host}/assignments"), null)).GetProperty("token").GetString()!;

        var latencies = new List<double>();
        int early = 0;
        for (int i = 0; i < rounds; i++)
        {
            Task<JsonElement> poll = SendAsync(client, HttpMethod.Get,
                new Uri(serving, $"v1/hosts/{Host}/assignments?token={Uri.EscapeDataString(token)}&timeoutSeconds=60"), null);
            await Task.Delay(500); // the poll waits on the serving replica, which holds the claim
            if (poll.IsCompleted)
            {
                early++;
                token = (await poll).GetProperty("token").GetString()!;
                continue;
            }

            long sent = Stopwatch.GetTimestamp();
            await SendAsync(client, HttpMethod.Put, new Uri(changing, group + "/providers/Microsoft.Network/networkSecurityGroups/nsg?api-version=2023-09-01"),
                string.Create(CultureInfo.InvariantCulture, $$$"""
                    {"location": "westus", "properties": {"securityRules": [{"name": "SSH", "properties": {"priority": {{{1000 + i}}}, "protocol": "Tcp",
                      "access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*",
                      "destinationPortRange": "22"}}]}}
                    """));
            token = (await poll).GetProperty("token").GetString()!;
            latencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
        }

        latencies.Sort();
        double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Floor(q * latencies.Count))];
        return FormattableString.Invariant(
            $"host-polls: {latencies.Count} changes through replica {replicas.Count - 1} reached the host polling replica 0: p50 {P(0.5):F1} ms | p90 {P(0.9):F1} ms | max {latencies.LastOrDefault():F1} ms (from sending the change; its PUT included){(early == 0 ? "" : $" | {early} polls answered before a change")}");
    }

    private static async Task<JsonElement> SendAsync(HttpClient client, HttpMethod method, Uri uri, string? body)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (body is not null)
            request.Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        using HttpResponseMessage response = await client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{method} {uri}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }
}
