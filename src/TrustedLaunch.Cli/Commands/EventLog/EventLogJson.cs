using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Cli.Commands.EventLog;

/// <summary>The JSON shapes of the eventlog commands: complete, hex for bytes, bank names as keys.</summary>
internal static class EventLogJson
{
    public static object Log(string name, TcgEventLog log) => new
    {
        file = name,
        format = log.Format == TcgEventLogFormat.CryptoAgile ? "crypto-agile" : "sha1",
        banks = log.Algorithms.Select(a => new { bank = EventLogInput.Bank(a.Algorithm), digestSize = a.DigestSize }),
        specId = log.SpecId is null ? null : new
        {
            platformClass = log.SpecId.PlatformClass,
            version = $"{log.SpecId.SpecVersionMajor}.{log.SpecId.SpecVersionMinor}",
            errata = log.SpecId.SpecErrata,
            uintnSize = log.SpecId.UintnSize,
            vendorInfo = Convert.ToHexString(log.SpecId.VendorInfo.Span),
        },
        startupLocality = log.StartupLocality,
        trailingZeroBytes = log.TrailingZeroBytes,
        events = log.Events.Select(Event),
    };

    private static object Event(TcgEvent ev)
    {
        bool ok = TcgEventDataDecoder.TryDecode(ev, out var decoded, out string? error);
        return new
        {
            index = ev.Index,
            offset = ev.Offset,
            pcr = ev.PcrIndex == uint.MaxValue ? -1 : (long)ev.PcrIndex,
            type = ev.TypeName,
            typeValue = (uint)ev.Type,
            digests = Digests(ev),
            dataSize = ev.Data.Length,
            data = Convert.ToHexString(ev.Data.Span),
            description = ok ? decoded!.Describe() : null,
            decoded = ok ? Decoded(decoded!) : null,
            decodeError = error,
        };
    }

    private static Dictionary<string, string> Digests(TcgEvent ev) =>
        ev.Digests.ToDictionary(d => EventLogInput.Bank(d.Algorithm), d => Convert.ToHexString(d.Value.Span), StringComparer.Ordinal);

    private static object? Decoded(TcgEventData data) => data switch
    {
        UefiVariableEventData v => new
        {
            kind = "uefiVariable",
            vendorGuid = v.VendorGuid,
            name = v.Name,
            variableDataSize = v.VariableData.Length,
            trailingBytes = v.TrailingBytes,
            value = v.ByteValue,
            text = v.IsSignatureDatabase ? null : v.TextValue,
            database = v.Database is { } db ? Database(db) : null,
            databaseError = v.DatabaseError,
            authority = v.Authority is { } a ? Entry(a) : null,
        },
        UefiImageLoadEventData i => new
        {
            kind = "imageLoad",
            location = i.ImageLocationInMemory,
            length = i.ImageLengthInMemory,
            linkTimeAddress = i.ImageLinkTimeAddress,
            devicePath = i.DevicePathText,
            devicePathBytes = Convert.ToHexString(i.DevicePath.Span),
        },
        IplEventData ipl => new { kind = "ipl", iplKind = ipl.Kind, prefix = ipl.Prefix, text = ipl.Text },
        TaggedEventData t => new { kind = "tagged", taggedEventId = t.TaggedEventId, sipa = t.Sipa?.Select(Sipa) },
        SeparatorEventData s => new { kind = "separator", value = s.Value, text = s.Text, isError = s.IsError },
        UefiGptEventData g => new { kind = "gpt", diskGuid = g.DiskGuid, partitions = g.Partitions },
        SpecIdEventData sp => new { kind = "specId", algorithms = sp.SpecId.Algorithms.Select(a => EventLogInput.Bank(a.Algorithm)) },
        _ => new { kind = data.GetType().Name.Replace("EventData", "", StringComparison.Ordinal), description = data.Describe() },
    };

    private static object Sipa(SipaRecord r) => new
    {
        type = r.Type,
        name = r.Name,
        value = r.Children is not null ? null : SipaNames.IsText(r.Type) ? r.Utf16Value : r.IntegerValue is ulong v ? (object)v : Convert.ToHexString(r.Data.Span),
        children = r.Children?.Select(Sipa),
    };

    private static List<object> Database(SignatureDatabase db) => db.Entries.Select(Entry).ToList();

    private static object Entry(SignatureEntry e) => new
    {
        kind = e.Kind.ToString(),
        owner = e.Owner,
        subject = e.Certificate?.Subject,
        issuer = e.Certificate?.Issuer,
        serialNumber = e.Certificate?.SerialNumber,
        notAfter = e.Certificate?.NotAfter,
        sha256 = e.Fingerprint,
    };

    public static object Replay(string name, EventLogReplay replay, PcrComparison? comparison) => new
    {
        file = name,
        startupLocality = replay.Log.StartupLocality,
        banks = replay.Banks.Select(b => new
        {
            bank = b.BankName,
            computable = b.IsComputable,
            pcrs = Enumerable.Range(0, TcgEventLog.PcrCount).Where(b.IsCovered)
                .ToDictionary(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture), p => Convert.ToHexString(b.Value(p)), StringComparer.Ordinal),
        }),
        comparison = comparison is null ? null : Comparison(comparison),
    };

    private static object Comparison(PcrComparison c) => new
    {
        passed = c.Passed,
        exitBootServicesEventsMissing = c.ExitBootServicesEventsMissing,
        mismatches = c.Mismatches.Select(m => $"{m.BankName}[{m.Index}]"),
        checks = c.Checks.Select(k => new
        {
            bank = k.BankName,
            index = k.Index,
            verdict = k.Verdict,
            expected = Convert.ToHexString(k.Expected.Span),
            replayed = k.Replayed.IsEmpty ? null : Convert.ToHexString(k.Replayed.Span),
            events = k.EventCount,
            expectedIsResetValue = k.Verdict == PcrVerdict.NotCovered ? k.ExpectedIsResetValue : (bool?)null,
            detail = k.Detail,
        }),
    };

    public static object Summary(string name, BootStateSummary s, PcrComparison comparison) => new
    {
        file = name,
        pcrValuesVerified = s.PcrValuesVerified,
        comparison = comparison.PcrValuesGiven ? Comparison(comparison) : null,
        firmwareVersion = s.FirmwareVersion,
        secureBoot = new
        {
            enabled = s.SecureBoot.Enabled,
            debugMode = s.SecureBoot.DebugMode,
            dmaProtectionDisabled = s.SecureBoot.DmaProtectionDisabled,
            pk = s.SecureBoot.Pk is { } pk ? Database(pk) : null,
            kek = s.SecureBoot.Kek is { } kek ? Database(kek) : null,
            db = s.SecureBoot.Db is { } db ? Database(db) : null,
            dbx = s.SecureBoot.Dbx is { } dbx ? Database(dbx) : null,
            dbt = s.SecureBoot.Dbt is { } dbt ? Database(dbt) : null,
        },
        authorities = s.Authorities.Select(Authority),
        bootApplications = s.BootApplications.Select(App),
        bootServicesDrivers = s.BootServicesDrivers.Select(App),
        shim = s.Shim,
        grubCommands = s.GrubCommands,
        grubFiles = s.GrubFiles,
        kernelCommandLine = s.KernelCommandLine,
        kernelCommandLines = s.KernelCommandLines,
        kernelArguments = s.KernelArguments.Select(k => new { eventIndex = k.EventIndex, pcr = k.PcrIndex, origin = k.Origin.ToString(), arguments = k.Arguments, executed = k.Executed }),
        windows = s.Windows is { } w ? new
        {
            w.BootCount, w.BootDebugging, w.KernelDebugging, w.TestSigning, w.CodeIntegrity, w.DataExecutionPrevention, w.SafeMode, w.WinPe,
            w.HypervisorDebugging, w.HypervisorLaunchType, w.VsmLaunchType, w.VbsVsmRequired, w.VbsSecureBootRequired, w.VbsIommuRequired,
            w.HvciPolicy, w.VbsConfigured, w.HvciConfigured, w.BitLockerUnlocks, w.TransferControls, w.ElamDrivers, w.LoadedModules,
        } : null,
        exitBootServicesMeasured = s.ExitBootServicesMeasured,
        warnings = s.Warnings,
        uninterpretedEvents = s.UninterpretedEvents,
        excludedEvents = s.ExcludedEvents,
    };

    private static object Authority(BootAuthority a) => new
    {
        eventIndex = a.EventIndex,
        variable = a.VariableName,
        vendorGuid = a.VendorGuid,
        entry = a.Entry is { } e ? Entry(e) : null,
        text = a.Text,
    };

    private static object App(BootApplication a) => new
    {
        eventIndex = a.EventIndex,
        eventType = TcgEventTypeNames.Name(a.EventType),
        bank = EventLogInput.Bank(a.Bank),
        authenticodeDigest = a.AuthenticodeDigest,
        digests = a.Digests,
        devicePath = a.DevicePath,
        authority = a.Authority is { } au ? Authority(au) : null,
        authorityInherited = a.AuthorityInherited,
        beforeBootOptionCall = a.BeforeBootOptionCall,
    };

    internal static string BankName(TpmAlgId alg) => EventLogInput.Bank(alg);
}
