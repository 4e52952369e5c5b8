using System.Text.Json;
using System.Text.Json.Serialization;
using TrustedLaunch.HostSystem;
using TrustedLaunch.HostSystem.Processes;
using TrustedLaunch.Runtime.Acceleration;
using TrustedLaunch.Runtime.Firmware;

namespace TrustedLaunch.Runtime;

/// <summary>
/// What a supervisor needs to adopt a VM that outlives it: the identities of QEMU and the vTPM (pid and start time),
/// the sockets and files of the launch, and the variable store as it was handed to the firmware (to know whether to
/// write it back). Kept as <c>run.json</c> in the VM's persistent run folder, rewritten durably at each step of a start.
/// </summary>
public sealed record VmRunRecord
{
    public const string FileName = "run.json";

    /// <summary>QEMU; null while the vTPM has started and QEMU not yet (a start cut short).</summary>
    public ProcessIdentity? Qemu { get; init; }

    public ProcessIdentity? VTpm { get; init; }

    public required AcceleratorChoice Accelerator { get; init; }

    public OvmfFirmware? Firmware { get; init; }

    public required IReadOnlyList<string> QemuArguments { get; init; }

    public required string ConsoleLog { get; init; }

    public required string AgentSocket { get; init; }

    public required string QmpSocket { get; init; }

    public string? VariableStoreCopy { get; init; }

    /// <summary>Length and SHA-256 of the store the firmware started with; a different store after QEMU exits is written back.</summary>
    public int InitialVariableStoreLength { get; init; }

    public string? InitialVariableStoreSha256 { get; init; }

    public required DateTime StartedAt { get; init; }

    public static string PathIn(string runDirectory) => Path.Combine(runDirectory, FileName);

    /// <summary>The record in <paramref name="runDirectory"/>, or null when there is none (no VM runs from it).</summary>
    /// <exception cref="VmRuntimeException">The record is unreadable.</exception>
    public static VmRunRecord? Read(string runDirectory)
    {
        string path = PathIn(runDirectory);
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), RuntimeJsonContext.Default.VmRunRecord);
        }
        catch (JsonException e)
        {
            throw new VmRuntimeException(VmRuntimeFailure.BadInput, $"The VM run record {path} is not readable: {e.Message}", e);
        }
    }

    public void Write(string runDirectory) =>
        DurableFile.Write(PathIn(runDirectory), JsonSerializer.SerializeToUtf8Bytes(this, RuntimeJsonContext.Default.VmRunRecord), overwrite: true, ownerOnly: true);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(VmRunRecord))]
internal sealed partial class RuntimeJsonContext : JsonSerializerContext;
