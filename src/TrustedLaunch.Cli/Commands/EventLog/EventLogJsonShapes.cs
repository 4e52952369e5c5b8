using System.Text.Json.Serialization;
using TrustedLaunch.Tcg.EventLog;

namespace TrustedLaunch.Cli.Commands.EventLog;

// The --json records of `tl eventlog show|replay|summary`, member for member (names and order are the output).

internal sealed record LogJson(string File, string Format, IEnumerable<BankSizeJson> Banks, SpecIdJson? SpecId, byte? StartupLocality, int TrailingZeroBytes, IEnumerable<EventJson> Events);

internal sealed record BankSizeJson(string Bank, int DigestSize);

internal sealed record SpecIdJson(uint PlatformClass, string Version, byte Errata, byte UintnSize, string VendorInfo);

internal sealed record EventJson(
    int Index, int Offset, long Pcr, string Type, uint TypeValue, Dictionary<string, string> Digests, int DataSize, string Data,
    string? Description, object? Decoded, string? DecodeError);

internal sealed record UefiVariableJson(
    string Kind, Guid VendorGuid, string Name, int VariableDataSize, int TrailingBytes, byte? Value, string? Text,
    List<SignatureEntryJson>? Database, string? DatabaseError, SignatureEntryJson? Authority);

internal sealed record ImageLoadJson(string Kind, ulong Location, ulong Length, ulong LinkTimeAddress, string? DevicePath, string DevicePathBytes);

internal sealed record IplJson(string Kind, IplEventKind IplKind, string? Prefix, string Text);

internal sealed record TaggedJson(string Kind, uint TaggedEventId, IEnumerable<SipaJson>? Sipa);

internal sealed record SipaJson(uint Type, string Name, object? Value, IEnumerable<SipaJson>? Children);

internal sealed record SeparatorJson(string Kind, uint Value, string? Text, bool IsError);

internal sealed record GptJson(string Kind, Guid DiskGuid, IReadOnlyList<GptPartition> Partitions);

internal sealed record SpecIdKindJson(string Kind, IEnumerable<string> Algorithms);

internal sealed record OtherEventDataJson(string Kind, string Description);

internal sealed record SignatureEntryJson(string Kind, Guid? Owner, string? Subject, string? Issuer, string? SerialNumber, DateTimeOffset? NotAfter, string Sha256);

internal sealed record ReplayJson(string File, byte? StartupLocality, IEnumerable<ReplayBankJson> Banks, ComparisonJson? Comparison);

internal sealed record ReplayBankJson(string Bank, bool Computable, Dictionary<string, string> Pcrs);

internal sealed record ComparisonJson(bool Passed, bool ExitBootServicesEventsMissing, IEnumerable<string> Mismatches, IEnumerable<PcrCheckJson> Checks);

internal sealed record PcrCheckJson(
    string Bank, int Index, PcrVerdict Verdict, string Expected, string? Replayed, int Events, bool? ExpectedIsResetValue, string? Detail);

internal sealed record SummaryJson(
    string File, bool PcrValuesVerified, ComparisonJson? Comparison, string? FirmwareVersion, SecureBootJson SecureBoot,
    IEnumerable<AuthorityJson> Authorities, IEnumerable<BootApplicationJson> BootApplications, IEnumerable<BootApplicationJson> BootServicesDrivers,
    ShimState? Shim, IReadOnlyList<string> GrubCommands, IReadOnlyList<MeasuredFile> GrubFiles, string? KernelCommandLine,
    IReadOnlyList<string> KernelCommandLines, IEnumerable<KernelArgumentsJson> KernelArguments, WindowsJson? Windows,
    bool ExitBootServicesMeasured, IReadOnlyList<string> Warnings, IReadOnlyList<EventReference> UninterpretedEvents,
    IReadOnlyList<ExcludedEvent> ExcludedEvents);

internal sealed record SecureBootJson(
    bool? Enabled, bool DebugMode, bool DmaProtectionDisabled, List<SignatureEntryJson>? Pk, List<SignatureEntryJson>? Kek,
    List<SignatureEntryJson>? Db, List<SignatureEntryJson>? Dbx, List<SignatureEntryJson>? Dbt);

internal sealed record KernelArgumentsJson(int EventIndex, uint Pcr, string Origin, string Arguments, bool Executed);

internal sealed record AuthorityJson(int EventIndex, string Variable, Guid VendorGuid, SignatureEntryJson? Entry, string? Text);

internal sealed record BootApplicationJson(
    int EventIndex, string EventType, string Bank, string AuthenticodeDigest, IReadOnlyDictionary<string, string> Digests, string? DevicePath,
    AuthorityJson? Authority, bool AuthorityInherited, bool BeforeBootOptionCall);

internal sealed record WindowsJson(
    ulong? BootCount, bool? BootDebugging, bool? KernelDebugging, bool? TestSigning, bool? CodeIntegrity, bool? DataExecutionPrevention,
    bool? SafeMode, bool? WinPe, bool? HypervisorDebugging, ulong? HypervisorLaunchType, ulong? VsmLaunchType, bool? VbsVsmRequired,
    bool? VbsSecureBootRequired, bool? VbsIommuRequired, ulong? HvciPolicy, bool VbsConfigured, bool HvciConfigured,
    IReadOnlyList<uint> BitLockerUnlocks, IReadOnlyList<uint> TransferControls, IReadOnlyList<ElamDriver> ElamDrivers,
    IReadOnlyList<WindowsLoadedModule> LoadedModules)
{
    public static WindowsJson From(WindowsBootState w) => new(
        w.BootCount, w.BootDebugging, w.KernelDebugging, w.TestSigning, w.CodeIntegrity, w.DataExecutionPrevention, w.SafeMode, w.WinPe,
        w.HypervisorDebugging, w.HypervisorLaunchType, w.VsmLaunchType, w.VbsVsmRequired, w.VbsSecureBootRequired, w.VbsIommuRequired,
        w.HvciPolicy, w.VbsConfigured, w.HvciConfigured, w.BitLockerUnlocks, w.TransferControls, w.ElamDrivers, w.LoadedModules);
}

/// <summary>The eventlog family's contracts; <see cref="Shapes"/> carries tl's options.</summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(LogJson))]
[JsonSerializable(typeof(ReplayJson))]
[JsonSerializable(typeof(SummaryJson))]
[JsonSerializable(typeof(UefiVariableJson))]
[JsonSerializable(typeof(ImageLoadJson))]
[JsonSerializable(typeof(IplJson))]
[JsonSerializable(typeof(TaggedJson))]
[JsonSerializable(typeof(SeparatorJson))]
[JsonSerializable(typeof(GptJson))]
[JsonSerializable(typeof(SpecIdKindJson))]
[JsonSerializable(typeof(OtherEventDataJson))]
[JsonSerializable(typeof(ulong))]
[JsonSerializable(typeof(string))]
internal sealed partial class EventLogJsonContext : JsonSerializerContext
{
    public static EventLogJsonContext Shapes { get; } = new(CliJson.ContextOptions(
        CliJson.Enum<IplEventKind>(), CliJson.Enum<PcrVerdict>(), CliJson.Enum<TcgEventType>(), CliJson.Enum<KernelArgumentOrigin>()));
}
