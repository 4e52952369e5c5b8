using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.Cli.Commands.Security;

/// <summary>
/// <c>tl security …</c>: posture as <c>az security</c> shows it (assessments, alerts, suppression rules, plans, secure
/// score, webhooks), through the service's Microsoft.Security API (docs/posture.md). Answers are printed as JSON.
/// </summary>
internal static class SecurityCommands
{
    private const string AssessmentsApi = "2021-06-01";
    private const string AlertsApi = "2022-01-01";
    private const string RulesApi = "2019-01-01-preview";
    private const string PricingsApi = "2024-01-01";
    private const string ScoresApi = "2020-01-01";
    private const string WebhooksApi = "2024-01-01";

    public static Command Create()
    {
        var command = new Command("security", "Posture like Defender for Cloud: assessments, alerts, suppression rules, plans, secure score, webhooks (tl server's Microsoft.Security API).");
        command.Subcommands.Add(Assessment());
        command.Subcommands.Add(Alert());
        command.Subcommands.Add(SuppressionRule());
        command.Subcommands.Add(Pricing());
        command.Subcommands.Add(SecureScore());
        command.Subcommands.Add(Webhook());
        return command;
    }

    private static Command Assessment()
    {
        var group = new Command("assessment", "The Trusted Launch recommendations evaluated for each VM.");
        var rg = ResourceGroup(required: false);
        var vm = new Option<string?>("--vm") { Description = "Only this VM's assessments (needs --resource-group)." };
        var list = Leaf("list", "List assessments of the subscription, a resource group or a VM. Exit 0 ok, 1 not found, 2 bad input, 3 service unreachable.", rg, vm);
        list.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
        {
            string? groupName = parse.GetValue(rg);
            string? vmName = parse.GetValue(vm);
            if (vmName is not null && groupName is null)
                throw new CliException(ExitCode.BadInput, "--vm needs --resource-group.");
            string path = vmName is not null
                ? $"{await client.GroupAsync(groupName!, ct2)}/providers/Microsoft.Compute/virtualMachines/{Uri.EscapeDataString(vmName)}/providers/Microsoft.Security/assessments"
                : groupName is not null ? $"{await client.GroupAsync(groupName, ct2)}/providers/Microsoft.Security/assessments"
                : $"{await client.ProviderAsync(ct2)}/assessments";
            return (await client.SendAsync(HttpMethod.Get, $"{path}?api-version={AssessmentsApi}", null, ct2)).GetProperty("value");
        }));
        var showRg = ResourceGroup(required: true);
        var showVm = new Option<string>("--vm") { Description = "The VM.", Required = true };
        var key = Name("The assessment key (GUID), e.g. 69ad830b-d98c-b1cf-2158-9d69d38c7093 (Secure Boot).");
        var show = Leaf("show", "Show one assessment with its metadata and status history. Exit 0 ok, 1 not found, 2 bad input (unknown key), 3 service unreachable.", showRg, showVm, key);
        show.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
        {
            string path = $"{await client.GroupAsync(parse.GetValue(showRg)!, ct2)}/providers/Microsoft.Compute/virtualMachines/{Uri.EscapeDataString(parse.GetValue(showVm)!)}/providers/Microsoft.Security/assessments/{Uri.EscapeDataString(parse.GetValue(key)!)}";
            JsonElement assessment = await client.SendAsync(HttpMethod.Get, $"{path}?api-version={AssessmentsApi}&$expand=metadata", null, ct2);
            JsonElement history = await client.SendAsync(HttpMethod.Get, $"{path}/statusHistory?api-version={AssessmentsApi}", null, ct2);
            JsonObject node = JsonNode.Parse(assessment.GetRawText())!.AsObject();
            node["properties"]!["statusHistory"] = JsonNode.Parse(history.GetProperty("value").GetRawText());
            return Arm.ArmOutput.Element(node);
        }));
        group.Subcommands.Add(list);
        group.Subcommands.Add(show);
        return group;
    }

    private static Command Alert()
    {
        var group = new Command("alert", "Security alerts (attestation failed, untrusted kernel module).");
        var status = new Option<string?>("--status") { Description = "Only alerts in this status: Active, InProgress, Resolved, Dismissed." };
        var severity = new Option<string?>("--severity") { Description = "Only alerts of this severity: Low, Medium, High." };
        var rg = ResourceGroup(required: false);
        var list = Leaf("list", "List alerts, newest first. Exit 0 ok, 2 bad input (unknown status or severity), 3 service unreachable.", rg, status, severity);
        list.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
        {
            string scope = parse.GetValue(rg) is string g ? $"{await client.GroupAsync(g, ct2)}/providers/Microsoft.Security" : await client.ProviderAsync(ct2);
            string query = (parse.GetValue(status) is string s ? "&status=" + Uri.EscapeDataString(s) : "")
                + (parse.GetValue(severity) is string v ? "&severity=" + Uri.EscapeDataString(v) : "");
            return (await client.SendAsync(HttpMethod.Get, $"{scope}/alerts?api-version={AlertsApi}{query}", null, ct2)).GetProperty("value");
        }));

        var name = Name("The alert's name.");
        var location = new Option<string?>("--location", "-l") { Description = "The alert's location (default: found by name)." };
        var show = Leaf("show", "Show one alert. Exit 0 ok, 1 not found, 3 service unreachable.", name, location);
        show.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
            await client.SendAsync(HttpMethod.Get, await AlertPathAsync(client, parse.GetValue(name)!, parse.GetValue(location), ct2) + $"?api-version={AlertsApi}", null, ct2)));

        var updateName = Name("The alert's name.");
        var updateLocation = new Option<string?>("--location", "-l") { Description = "The alert's location (default: found by name)." };
        var newStatus = new Option<string>("--status") { Description = "The new status: Active, InProgress, Resolved or Dismissed.", Required = true };
        var update = Leaf("update", "Change an alert's status (POST activate|inProgress|resolve|dismiss). Exit 0 ok, 1 not found, 2 bad status, 3 service unreachable.",
            updateName, updateLocation, newStatus);
        update.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
        {
            string action = parse.GetValue(newStatus)!.ToUpperInvariant() switch
            {
                "ACTIVE" => "activate",
                "INPROGRESS" => "inProgress",
                "RESOLVED" => "resolve",
                "DISMISSED" => "dismiss",
                string other => throw new CliException(ExitCode.BadInput, $"--status {other}: use Active, InProgress, Resolved or Dismissed."),
            };
            string path = await AlertPathAsync(client, parse.GetValue(updateName)!, parse.GetValue(updateLocation), ct2);
            await client.SendAsync(HttpMethod.Post, $"{path}/{action}?api-version={AlertsApi}", null, ct2);
            return await client.SendAsync(HttpMethod.Get, $"{path}?api-version={AlertsApi}", null, ct2);
        }));

        var watch = Leaf("watch", "Print alert and assessment events (CloudEvents, one JSON line each) as they happen, until Ctrl-C. Exit 0 stopped, 3 service unreachable.");
        watch.SetAction(async (parse, ct) =>
        {
            using var client = new SecurityClient(parse.GetValue<string?>(ServerOption), parse.GetValue<string?>(SubscriptionOption), Timeout.InfiniteTimeSpan,
                parse.GetValue<string?>("--token"));
            try
            {
                await using Stream stream = await client.OpenStreamAsync($"{await client.ProviderAsync(ct).ConfigureAwait(false)}/alerts:watch?api-version={AlertsApi}", ct)
                    .ConfigureAwait(false);
                using var reader = new StreamReader(stream);
                while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is string line)
                {
                    if (line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        await parse.Out().WriteLineAsync(line["data: ".Length..]).ConfigureAwait(false);
                        await parse.Out().FlushAsync(ct).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl-C
            }

            return (int)ExitCode.Ok;
        });
        foreach (Command c in new[] { list, show, update, watch })
            group.Subcommands.Add(c);
        return group;
    }

    private static Command SuppressionRule()
    {
        var group = new Command("alerts-suppression-rule", "Rules that dismiss matching alerts when they are raised (no notification).");
        var name = Name("The rule's name.");
        var alertType = new Option<string>("--alert-type") { Description = "TL_VM_AttestationFailed, TL_VM_UntrustedKernelModule, or * for all.", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why: FalsePositive, Benign or Other.", Required = true };
        var state = new Option<string>("--state") { Description = "Enabled or Disabled.", DefaultValueFactory = _ => "Enabled" };
        var expiry = new Option<string?>("--expiration-date-utc") { Description = "When the rule stops applying (ISO 8601); default: never." };
        var comment = new Option<string?>("--comment") { Description = "A note for the next reader." };
        var scopeIn = new Option<string[]>("--scope-in")
        {
            Description = "A condition FIELD=VALUE[,VALUE…] (the alert's field is one of the values); repeatable, all must hold. " +
                "Fields: entities.azureResource.resourceId|resourceGroup|vmId, entities.file.name, alertType, severity, compromisedEntity, extendedProperties.NAME.",
            AllowMultipleArgumentsPerToken = false,
        };
        var scopeContains = new Option<string[]>("--scope-contains") { Description = "A condition FIELD=TEXT (the field contains the text); repeatable." };
        var create = Leaf("create", "Create or replace a suppression rule. Exit 0 ok, 2 bad input (unknown field, operator or alert type), 3 service unreachable.",
            name, alertType, reason, state, expiry, comment, scopeIn, scopeContains);
        create.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
        {
            var allOf = new JsonArray();
            foreach (string condition in parse.GetValue(scopeIn) ?? [])
            {
                (string field, string values) = Split(condition, "--scope-in");
                allOf.Add((JsonNode)new JsonObject { ["field"] = field, ["in"] = new JsonArray(values.Split(',').Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()) });
            }

            foreach (string condition in parse.GetValue(scopeContains) ?? [])
            {
                (string field, string text) = Split(condition, "--scope-contains");
                allOf.Add((JsonNode)new JsonObject { ["field"] = field, ["contains"] = text });
            }

            var properties = new JsonObject
            {
                ["alertType"] = parse.GetValue(alertType), ["reason"] = parse.GetValue(reason), ["state"] = parse.GetValue(state),
                ["suppressionAlertsScope"] = new JsonObject { ["allOf"] = allOf },
            };
            if (parse.GetValue(expiry) is string e)
                properties["expirationDateUtc"] = e;
            if (parse.GetValue(comment) is string c)
                properties["comment"] = c;
            return await client.SendAsync(HttpMethod.Put, $"{await client.ProviderAsync(ct2)}/alertsSuppressionRules/{Uri.EscapeDataString(parse.GetValue(name)!)}?api-version={RulesApi}",
                new JsonObject { ["properties"] = properties }, ct2);
        }));
        var filter = new Option<string?>("--alert-type") { Description = "Only rules for this alert type." };
        var list = Leaf("list", "List suppression rules (state Expired once past their expiry). Exit 0 ok, 3 service unreachable.", filter);
        list.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
            (await client.SendAsync(HttpMethod.Get, $"{await client.ProviderAsync(ct2)}/alertsSuppressionRules?api-version={RulesApi}"
                + (parse.GetValue(filter) is string t ? "&AlertType=" + Uri.EscapeDataString(t) : ""), null, ct2)).GetProperty("value")));
        var showName = Name("The rule's name.");
        var show = Leaf("show", "Show a suppression rule. Exit 0 ok, 1 not found, 3 service unreachable.", showName);
        show.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
            await client.SendAsync(HttpMethod.Get, $"{await client.ProviderAsync(ct2)}/alertsSuppressionRules/{Uri.EscapeDataString(parse.GetValue(showName)!)}?api-version={RulesApi}", null, ct2)));
        var deleteName = Name("The rule's name.");
        var delete = Leaf("delete", "Delete a suppression rule (nothing happens when it does not exist). Exit 0 ok, 3 service unreachable.", deleteName);
        delete.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
        {
            await client.SendAsync(HttpMethod.Delete, $"{await client.ProviderAsync(ct2)}/alertsSuppressionRules/{Uri.EscapeDataString(parse.GetValue(deleteName)!)}?api-version={RulesApi}", null, ct2);
            return null;
        }));
        foreach (Command c in new[] { create, list, show, delete })
            group.Subcommands.Add(c);
        return group;
    }

    private static Command Pricing()
    {
        var group = new Command("pricing", "Plans: Free (assessments only) or Standard (assessments and alerts).");
        var name = Name("The plan: VirtualMachines.");
        var tier = new Option<string>("--tier") { Description = "Free or Standard.", Required = true };
        var create = Leaf("create", "Set the subscription's plan. Exit 0 ok, 2 bad plan or tier, 3 service unreachable.", name, tier);
        create.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
            await client.SendAsync(HttpMethod.Put, $"{await client.ProviderAsync(ct2)}/pricings/{Uri.EscapeDataString(parse.GetValue(name)!)}?api-version={PricingsApi}",
                new JsonObject { ["properties"] = new JsonObject { ["pricingTier"] = parse.GetValue(tier) } }, ct2)));
        var list = Leaf("list", "Show the subscription's plans. Exit 0 ok, 3 service unreachable.");
        list.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
            (await client.SendAsync(HttpMethod.Get, $"{await client.ProviderAsync(ct2)}/pricings?api-version={PricingsApi}", null, ct2)).GetProperty("value")));
        group.Subcommands.Add(create);
        group.Subcommands.Add(list);
        return group;
    }

    private static Command SecureScore()
    {
        var group = new Command("secure-score", "Healthy ÷ applicable assessments, weighted by severity (Low 1, Medium 2, High 3).");
        var rg = ResourceGroup(required: false);
        var list = Leaf("list", "Show the secure score of the subscription or a resource group. Exit 0 ok, 1 no such group, 3 service unreachable.", rg);
        list.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
        {
            string scope = parse.GetValue(rg) is string g ? $"{await client.GroupAsync(g, ct2)}/providers/Microsoft.Security" : await client.ProviderAsync(ct2);
            return (await client.SendAsync(HttpMethod.Get, $"{scope}/secureScores?api-version={ScoresApi}", null, ct2)).GetProperty("value");
        }));
        group.Subcommands.Add(list);
        return group;
    }

    private static Command Webhook()
    {
        var group = new Command("webhook", "Webhook subscriptions: signed CloudEvents for alerts and assessment changes.");
        var name = Name("The subscription's name.");
        var url = new Option<string>("--url") { Description = "Where to POST events (https://, or http:// on this platform; no credentials in it).", Required = true };
        var secret = new Option<string?>("--secret") { Description = "HMAC-SHA256 key (16-256 characters); default: generated and printed once." };
        var eventTypes = new Option<string[]>("--event-types") { Description = "Only these CloudEvent types (Microsoft.Security.AlertCreated, .AlertUpdated, .AssessmentStatusChanged).", AllowMultipleArgumentsPerToken = true };
        var alertTypes = new Option<string[]>("--alert-types") { Description = "Only these alert types.", AllowMultipleArgumentsPerToken = true };
        var minimum = new Option<string?>("--min-severity") { Description = "Only events of this severity or higher: Informational, Low, Medium, High." };
        var create = Leaf("create", "Create or replace a webhook subscription (enables it again). Exit 0 ok, 2 bad URL or filter, 3 service unreachable.",
            name, url, secret, eventTypes, alertTypes, minimum);
        create.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
        {
            var properties = new JsonObject { ["url"] = parse.GetValue(url) };
            if (parse.GetValue(secret) is string s)
                properties["secret"] = s;
            if (parse.GetValue(eventTypes) is { Length: > 0 } e)
                properties["eventTypes"] = new JsonArray(e.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray());
            if (parse.GetValue(alertTypes) is { Length: > 0 } a)
                properties["alertTypes"] = new JsonArray(a.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray());
            if (parse.GetValue(minimum) is string m)
                properties["minimumSeverity"] = m;
            return await client.SendAsync(HttpMethod.Put, $"{await client.ProviderAsync(ct2)}/webhookSubscriptions/{Uri.EscapeDataString(parse.GetValue(name)!)}?api-version={WebhooksApi}",
                new JsonObject { ["properties"] = properties }, ct2);
        }));
        var list = Leaf("list", "List webhook subscriptions with their state. Exit 0 ok, 3 service unreachable.");
        list.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
            (await client.SendAsync(HttpMethod.Get, $"{await client.ProviderAsync(ct2)}/webhookSubscriptions?api-version={WebhooksApi}", null, ct2)).GetProperty("value")));
        var deleteName = Name("The subscription's name.");
        var delete = Leaf("delete", "Delete a webhook subscription and its pending deliveries. Exit 0 ok, 3 service unreachable.", deleteName);
        delete.SetAction((parse, ct) => RunAsync(parse, ct, async (client, ct2) =>
        {
            await client.SendAsync(HttpMethod.Delete, $"{await client.ProviderAsync(ct2)}/webhookSubscriptions/{Uri.EscapeDataString(parse.GetValue(deleteName)!)}?api-version={WebhooksApi}", null, ct2);
            return null;
        }));
        foreach (Command c in new[] { create, list, delete })
            group.Subcommands.Add(c);
        return group;
    }

    private const string ServerOption = "--server";
    private const string SubscriptionOption = "--subscription";

    private static Command Leaf(string name, string description, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (Option option in options)
            command.Options.Add(option);
        command.Options.Add(new Option<string?>(ServerOption)
        {
            Description = $"The service (tl server) URL; default ${SecurityClient.ServerVariable}, else {SecurityClient.DefaultServer}.",
        });
        command.Options.Add(new Option<string?>(SubscriptionOption) { Description = "Subscription id; default: the one the service created at its first start." });
        command.Options.Add(Arm.ArmOptions.Token());
        return command;
    }

    private static Option<string?> ResourceGroup(bool required) =>
        new("--resource-group", "-g") { Description = "Name of the resource group.", Required = required };

    private static Option<string> Name(string description) => new("--name", "-n") { Description = description, Required = true };

#pragma warning disable CA1068 // the action reads best last, after the token it is handed
    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken, Func<SecurityClient, CancellationToken, Task<JsonElement?>> action)
    {
        using var client = new SecurityClient(parse.GetValue<string?>(ServerOption), parse.GetValue<string?>(SubscriptionOption), token: parse.GetValue<string?>("--token"));
        JsonElement? result = await action(client, cancellationToken).ConfigureAwait(false);
        if (result is JsonElement json && json.ValueKind != JsonValueKind.Undefined)
            await parse.Out().WriteLineAsync(Arm.ArmOutput.Indent(json)).ConfigureAwait(false);
        return (int)ExitCode.Ok;
    }
#pragma warning restore CA1068

    private static async Task<string> AlertPathAsync(SecurityClient client, string name, string? location, CancellationToken cancellationToken)
    {
        string provider = await client.ProviderAsync(cancellationToken).ConfigureAwait(false);
        if (location is null)
        {
            JsonElement all = (await client.SendAsync(HttpMethod.Get, $"{provider}/alerts?api-version={AlertsApi}", null, cancellationToken).ConfigureAwait(false)).GetProperty("value");
            JsonElement? found = all.EnumerateArray().Cast<JsonElement?>().FirstOrDefault(a => a!.Value.GetProperty("name").GetString() == name);
            if (found is not JsonElement alert)
                throw new CliException(ExitCode.VerificationFailed, $"(AlertNotFound) The alert '{name}' was not found.");
            string id = alert.GetProperty("id").GetString()!;
            location = id.Split('/')[^3];
        }

        return $"{provider}/locations/{Uri.EscapeDataString(location)}/alerts/{Uri.EscapeDataString(name)}";
    }

    private static (string Field, string Value) Split(string condition, string option)
    {
        int equals = condition.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == condition.Length - 1)
            throw new CliException(ExitCode.BadInput, $"{option} '{condition}': write FIELD=VALUE.");
        return (condition[..equals], condition[(equals + 1)..]);
    }
}
