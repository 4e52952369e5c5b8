using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.Runtime.Console;

namespace TrustedLaunch.Cli.Commands.Quickstart;

/// <summary>Where the quickstart VM lives and how long it took, for the report.</summary>
internal sealed record QuickstartContext(Uri Server, string SubscriptionId, string ResourceGroup, string Name, string Image, string ServiceLog, string SetupLog,
    string VmDirectory, TimeSpan ToRunning, TimeSpan? ToAttested);

/// <summary>One vTPM identity key as the platform reports it (GET …/shieldedInstanceIdentity).</summary>
internal sealed record QuickstartVTpmKey(string Role, string? Subject, string? Issuer, string? Serial);

/// <summary>Everything quickstart found out through the API, for <c>--json</c> and for the text report.</summary>
internal sealed record QuickstartReport
{
    public required string VmId { get; init; }
    public required string Name { get; init; }
    public required string ResourceGroup { get; init; }
    public required string Server { get; init; }
    public required string SubscriptionId { get; init; }
    public required string Image { get; init; }
    public required string VmDirectory { get; init; }
    public required string ServiceLog { get; init; }
    public required string SetupLog { get; init; }
    public string? ProvisioningState { get; init; }
    public string? PowerState { get; init; }
    public string? BootVerdict { get; init; }
    public string? BootVerdictDetail { get; init; }
    public required IReadOnlyDictionary<string, string> GuestFacts { get; init; }
    public required IReadOnlyList<QuickstartVTpmKey> VTpm { get; init; }
    public JsonElement? Attestation { get; init; }
    public double SecondsToRunning { get; init; }
    public double? SecondsToAttested { get; init; }

    public bool Running => PowerState == "running";

    public bool AttestationPassed => Attestation is { } a && ArmOutput.At(a, "verdict") == "pass";

    public static QuickstartReport From(JsonElement vm, string console, JsonElement? identity, JsonElement? attestation, QuickstartContext context)
    {
        JsonElement? view = Vm.VmCommands.InstanceView(vm);
        var keys = new List<QuickstartVTpmKey>();
        if (identity is { } id && id.TryGetProperty("keys", out JsonElement list))
        {
            foreach (JsonElement key in list.EnumerateArray())
            {
                using X509Certificate2? cert = ArmOutput.At(key, "certificatePem") is string pem ? X509Certificate2.CreateFromPem(pem) : null;
                keys.Add(new QuickstartVTpmKey(ArmOutput.At(key, "role")!, cert?.Subject, cert?.Issuer, cert?.SerialNumber));
            }
        }

        return new QuickstartReport
        {
            VmId = ArmOutput.At(vm, "properties.vmId")!,
            Name = context.Name,
            ResourceGroup = context.ResourceGroup,
            Server = context.Server.ToString().TrimEnd('/'),
            SubscriptionId = context.SubscriptionId,
            Image = context.Image,
            VmDirectory = context.VmDirectory,
            ServiceLog = context.ServiceLog,
            SetupLog = context.SetupLog,
            ProvisioningState = ArmOutput.At(vm, "properties.provisioningState"),
            PowerState = view is JsonElement v ? ArmOutput.Status(v, "PowerState/") : null,
            BootVerdict = view is JsonElement b ? ArmOutput.Status(b, "BootVerdict/") : null,
            BootVerdictDetail = view is JsonElement d ? Detail(d, "BootVerdict/") : null,
            // The guest's TL-GUEST lines, read from the console tail its host reported, by the runtime's own parser.
            GuestFacts = new Dictionary<string, string>(ConsoleVerdictParser.ParseAll(Encoding.UTF8.GetBytes(console)).GuestFacts),
            VTpm = keys,
            Attestation = attestation,
            SecondsToRunning = Math.Round(context.ToRunning.TotalSeconds, 1),
            SecondsToAttested = context.ToAttested is TimeSpan t ? Math.Round(t.TotalSeconds, 1) : null,
        };
    }

    public string ToText()
    {
        var t = new StringBuilder();
        string Fact(string key) => GuestFacts.TryGetValue(key, out string? v) ? v : "(not reported)";
        void Section(string title) => t.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"── {title} {new string('─', Math.Max(0, 66 - title.Length))}");
        void Row(string name, string? value) => t.AppendLine(CultureInfo.InvariantCulture, $"  {name,-22} {value}");

        t.AppendLine(CultureInfo.InvariantCulture, $"TrustedLaunch quickstart: VM {Name} ({VmId}), a Trusted Launch VM run by the platform");
        Row("state", $"{ProvisioningState}, {PowerState} ({SecondsToRunning:0.0} s from the create request)");
        Row("image", Image);
        Row("files on its host", $"{VmDirectory} (OS disk overlay, VMGS; the host key is not there)");

        Section("Boot");
        Row("verdict", $"{BootVerdict}: {BootVerdictDetail}");
        Row("Secure Boot (guest)", Fact("secure-boot"));
        Row("kernel lockdown", Fact("lockdown"));
        Row("TPM (guest)", Fact("tpm") == "2.0" ? "TPM 2.0 present" : Fact("tpm"));
        Row("event log (guest)", Fact("event-log"));
        Row("unsigned module", Fact("module-unsigned"));
        Row("SMBIOS UUID (guest)", Fact("product-uuid"));

        Section("vTPM identity (platform-certified)");
        foreach (QuickstartVTpmKey key in VTpm)
            Row(key.Role, $"{key.Subject}\n{"",25}issued by {key.Issuer}");

        Section("Attestation");
        if (Attestation is not JsonElement a)
        {
            Row("result", "not performed: the VM did not run");
        }
        else
        {
            Row("result", AttestationPassed
                ? $"PASSED ({SecondsToAttested:0.0} s from the create request; the host attests again every 60 s)"
                : $"FAILED: {ArmOutput.At(a, "reason")}: {ArmOutput.At(a, "component")}: {ArmOutput.At(a, "message")}");
            if (a.TryGetProperty("claims", out JsonElement claims) && claims.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty claim in claims.EnumerateObject())
                    t.AppendLine(CultureInfo.InvariantCulture, $"    {claim.Name,-46} {ClaimText(claim.Value)}");
            }
        }

        Section("The platform keeps running");
        Row("API", $"{Server} (subscription {SubscriptionId})");
        Row("service log", ServiceLog);
        Row("setup log", SetupLog);
        t.AppendLine(CultureInfo.InvariantCulture, $"""
              export TL_SERVER={Server}
              tl vm list -o table
              tl vm get-instance-view -g {ResourceGroup} -n {Name} -o table
              tl vm attest -g {ResourceGroup} -n {Name}
              tl vm identity -g {ResourceGroup} -n {Name}
              curl -s '{Server}/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.Compute/virtualMachines/{Name}?api-version=2024-07-01'
              tl quickstart --stop      # deletes the quickstart VMs and ends the service
            """);
        return t.ToString();
    }

    private static string? Detail(JsonElement view, string prefix)
    {
        foreach (JsonElement status in view.GetProperty("statuses").EnumerateArray())
        {
            if (status.GetProperty("code").GetString()!.StartsWith(prefix, StringComparison.Ordinal))
                return ArmOutput.At(status, "message");
        }

        return null;
    }

    /// <summary>Scalars as they are, arrays of scalars inline (e.g. the attested PCRs), structured claims by size.</summary>
    private static string? ClaimText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Array when value.EnumerateArray().All(e => e.ValueKind is not (JsonValueKind.Array or JsonValueKind.Object)) =>
            "[" + string.Join(", ", value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText())) + "]",
        JsonValueKind.Array => value.GetArrayLength() == 1 ? "(1 entry; see --json)" : $"({value.GetArrayLength()} entries; see --json)",
        JsonValueKind.Object => "(object; see --json)",
        _ => value.GetRawText(),
    };
}
