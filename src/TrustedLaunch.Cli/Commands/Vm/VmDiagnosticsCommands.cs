using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using TrustedLaunch.Cli.Commands.Arm;

namespace TrustedLaunch.Cli.Commands.Vm;

/// <summary>
/// <c>tl vm boot-log</c> (az vm boot-diagnostics get-boot-log: Azure's retrieveBootDiagnosticsData, then the serial log it
/// points to), <c>tl vm attest</c> (the VM's host attests it now; the result as the attestation service stored it) and
/// <c>tl vm identity</c> (the vTPM's EK and AK, public keys and certificates).
/// </summary>
internal static class VmDiagnosticsCommands
{
    private static readonly TableColumn[] IdentityColumns =
    [
        new("Role", k => ArmOutput.At(k, "role")),
        new("Algorithm", k => ArmOutput.At(k, "algorithm")),
        new("Handle", k => ArmOutput.At(k, "persistentHandle")),
        new("CertificateIndex", k => ArmOutput.At(k, "certificateIndex")),
        new("Certificate", k => ArmOutput.At(k, "certificatePem") is null ? "no" : "yes"),
    ];

    private static readonly TableColumn[] ResultColumns =
    [
        new("Verdict", r => ArmOutput.At(r, "verdict")),
        new("At", r => ArmOutput.At(r, "at")),
        new("Reason", r => ArmOutput.At(r, "reason")),
        new("Component", r => ArmOutput.At(r, "component")),
    ];

    public static Command CreateBootLog()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("VM");
        var command = new Command("boot-log", "Print the VM's serial console (the tail its host last reported), as az vm boot-diagnostics get-boot-log.") { group, name };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string path = await api.VmPathAsync(parse.GetValue(group)!, parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            ArmAnswer data = await api.SendAsync(HttpMethod.Post, $"{path}/retrieveBootDiagnosticsData", ArmApi.ComputeApiVersion, [], cancellationToken)
                .ConfigureAwait(false);
            string log = ArmOutput.At(data.Body!.Value, "serialConsoleLogBlobUri")
                ?? throw new ArmApiException(HttpStatusCode.NotFound, "BootDiagnosticsNotAvailable", "The VM has no serial console log.");
            ArmAnswer text = await api.SendAsync(HttpMethod.Get, log, null, null, cancellationToken).ConfigureAwait(false);
            parse.Out().Write(text.Text);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    public static Command CreateAttest()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("VM");
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the result.", DefaultValueFactory = _ => 180 };
        var command = new Command("attest",
            "Attest a running Trusted Launch VM now: its host challenges the guest agent and relays the evidence; prints the result the attestation service stored. " +
            "Exit 0 passed, 1 failed (reason and component), 2 refused (no vTPM, not running), 3 no control plane or no result in time.")
        {
            group, name, timeout,
        };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string vm = parse.GetValue(name)!;
            string path = await api.VmPathAsync(parse.GetValue(group)!, vm, cancellationToken).ConfigureAwait(false);
            JsonElement request = (await api.SendAsync(HttpMethod.Post, $"{path}/attest", ArmApi.ComputeApiVersion, [], cancellationToken).ConfigureAwait(false)).Body!.Value;
            DateTimeOffset requestedAt = request.GetProperty("requestedAt").GetDateTimeOffset();
            string resultUrl = request.GetProperty("resultUrl").GetString()!;
            parse.Error().WriteLine($"tl: attesting VM '{vm}' (its host relays a fresh challenge to the guest agent)");
            JsonElement result = await WaitForResultAsync(api, resultUrl, requestedAt, TimeSpan.FromSeconds(parse.GetValue(timeout)), cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), result, ResultColumns);
            return ArmOutput.At(result, "verdict") == "pass" ? (int)ExitCode.Ok : (int)ExitCode.VerificationFailed;
        });
        return command;
    }

    public static Command CreateIdentity()
    {
        var group = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("VM");
        var command = new Command("identity",
            "The VM's vTPM identity: EK and AK public keys and their platform certificates (PEM), as GCP's getShieldedInstanceIdentity.") { group, name };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string path = await api.VmPathAsync(parse.GetValue(group)!, parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            JsonElement identity = (await api.GetAsync($"{path}/shieldedInstanceIdentity", ArmApi.ComputeApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value;
            if (arm.Format(parse) == "table")
                ArmOutput.WriteTable(parse.Out(), [.. identity.GetProperty("keys").EnumerateArray()], IdentityColumns);
            else
                ArmOutput.Write(parse.Out(), "json", identity, IdentityColumns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    // The attestation API's latest result of the VM, once it is newer than the request.
    private static async Task<JsonElement> WaitForResultAsync(ArmApi api, string resultUrl, DateTimeOffset requestedAt, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            try
            {
                JsonElement latest = (await api.SendAsync(HttpMethod.Get, resultUrl, null, null, cancellationToken).ConfigureAwait(false)).Body!.Value;
                if (latest.GetProperty("at").GetDateTimeOffset() >= requestedAt)
                    return latest;
            }
            catch (ArmApiException e) when (e.Status == HttpStatusCode.NotFound)
            {
                // No result yet.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }

        throw new ArmApiException(null, "AttestationTimedOut", $"No attestation result within {timeout.TotalSeconds:0} s; the VM's host may be unreachable ('tl vm get-instance-view').");
    }
}
