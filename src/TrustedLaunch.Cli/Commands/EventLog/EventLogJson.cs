using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Cli.Commands.EventLog;

/// <summary>The JSON shapes of the eventlog commands: complete, hex for bytes, bank names as keys (EventLogJsonShapes.cs).</summary>
internal static class EventLogJson
{
    public static LogJson Log(string name, TcgEventLog log) => new(
        name,
        log.Format == TcgEventLogFormat.CryptoAgile ? "crypto-agile" : "sha1",
        log.Algorithms.Select(a => new BankSizeJson(EventLogInput.Bank(a.Algorithm), a.DigestSize)),
        log.SpecId is null ? null : new SpecIdJson(
            log.SpecId.PlatformClass,
            $"{log.SpecId.SpecVersionMajor}.{log.SpecId.SpecVersionMinor}",
            log.SpecId.SpecErrata,
            log.SpecId.UintnSize,
            Convert.ToHexString(log.SpecId.VendorInfo.Span)),
        log.StartupLocality,
        log.TrailingZeroBytes,
        log.Events.Select(Event));

    private static EventJson Event(TcgEvent ev)
    {
        bool ok = TcgEventDataDecoder.TryDecode(ev, out var decoded, out string? error);
        return new EventJson(
            ev.Index,
            ev.Offset,
            ev.PcrIndex == uint.MaxValue ? -1 : (long)ev.PcrIndex,
            ev.TypeName,
            (uint)ev.Type,
            Digests(ev),
            ev.Data.Length,
            Convert.ToHexString(ev.Data.Span),
            ok ? decoded!.Describe() : null,
            ok ? Decoded(decoded!) : null,
            error);
    }

    private static Dictionary<string, string> Digests(TcgEvent ev) =>
        ev.Digests.ToDictionary(d => EventLogInput.Bank(d.Algorithm), d => Convert.ToHexString(d.Value.Span), StringComparer.Ordinal);

    // Declared object: each kind prints its own members (the context knows every one of these records).
    private static object? Decoded(TcgEventData data) => data switch
    {
        UefiVariableEventData v => new UefiVariableJson(
            "uefiVariable", v.VendorGuid, v.Name, v.VariableData.Length, v.TrailingBytes, v.ByteValue,
            v.IsSignatureDatabase ? null : v.TextValue,
            v.Database is { } db ? Database(db) : null,
            v.DatabaseError,
            v.Authority is { } a ? Entry(a) : null),
        UefiImageLoadEventData i => new ImageLoadJson(
            "imageLoad", i.ImageLocationInMemory, i.ImageLengthInMemory, i.ImageLinkTimeAddress, i.DevicePathText, Convert.ToHexString(i.DevicePath.Span)),
        IplEventData ipl => new IplJson("ipl", ipl.Kind, ipl.Prefix, ipl.Text),
        TaggedEventData t => new TaggedJson("tagged", t.TaggedEventId, t.Sipa?.Select(Sipa)),
        SeparatorEventData s => new SeparatorJson("separator", s.Value, s.Text, s.IsError),
        UefiGptEventData g => new GptJson("gpt", g.DiskGuid, g.Partitions),
        SpecIdEventData sp => new SpecIdKindJson("specId", sp.SpecId.Algorithms.Select(a => EventLogInput.Bank(a.Algorithm))),
        _ => new OtherEventDataJson(data.GetType().Name.Replace("EventData", "", StringComparison.Ordinal), data.Describe()),
    };

    private static SipaJson Sipa(SipaRecord r) => new(
        r.Type,
        r.Name,
        r.Children is not null ? null : SipaNames.IsText(r.Type) ? r.Utf16Value : r.IntegerValue is ulong v ? (object)v : Convert.ToHexString(r.Data.Span),
        r.Children?.Select(Sipa));

    private static List<SignatureEntryJson> Database(SignatureDatabase db) => db.Entries.Select(Entry).ToList();

    private static SignatureEntryJson Entry(SignatureEntry e) => new(
        e.Kind.ToString(), e.Owner, e.Certificate?.Subject, e.Certificate?.Issuer, e.Certificate?.SerialNumber, e.Certificate?.NotAfter, e.Fingerprint);

    public static ReplayJson Replay(string name, EventLogReplay replay, PcrComparison? comparison) => new(
        name,
        replay.Log.StartupLocality,
        replay.Banks.Select(b => new ReplayBankJson(
            b.BankName,
            b.IsComputable,
            Enumerable.Range(0, TcgEventLog.PcrCount).Where(b.IsCovered)
                .ToDictionary(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture), p => Convert.ToHexString(b.Value(p)), StringComparer.Ordinal))),
        comparison is null ? null : Comparison(comparison));

    private static ComparisonJson Comparison(PcrComparison c) => new(
        c.Passed,
        c.ExitBootServicesEventsMissing,
        c.Mismatches.Select(m => $"{m.BankName}[{m.Index}]"),
        c.Checks.Select(k => new PcrCheckJson(
            k.BankName,
            k.Index,
            k.Verdict,
            Convert.ToHexString(k.Expected.Span),
            k.Replayed.IsEmpty ? null : Convert.ToHexString(k.Replayed.Span),
            k.EventCount,
            k.Verdict == PcrVerdict.NotCovered ? k.ExpectedIsResetValue : null,
            k.Detail)));

    public static SummaryJson Summary(string name, BootStateSummary s, PcrComparison comparison) => new(
        name,
        s.PcrValuesVerified,
        comparison.PcrValuesGiven ? Comparison(comparison) : null,
        s.FirmwareVersion,
        new SecureBootJson(
            s.SecureBoot.Enabled,
            s.SecureBoot.DebugMode,
            s.SecureBoot.DmaProtectionDisabled,
            s.SecureBoot.Pk is { } pk ? Database(pk) : null,
            s.SecureBoot.Kek is { } kek ? Database(kek) : null,
            s.SecureBoot.Db is { } db ? Database(db) : null,
            s.SecureBoot.Dbx is { } dbx ? Database(dbx) : null,
            s.SecureBoot.Dbt is { } dbt ? Database(dbt) : null),
        s.Authorities.Select(Authority),
        s.BootApplications.Select(App),
        s.BootServicesDrivers.Select(App),
        s.Shim,
        s.GrubCommands,
        s.GrubFiles,
        s.KernelCommandLine,
        s.KernelCommandLines,
        s.KernelArguments.Select(k => new KernelArgumentsJson(k.EventIndex, k.PcrIndex, k.Origin.ToString(), k.Arguments, k.Executed)),
        s.Windows is { } w ? WindowsJson.From(w) : null,
        s.ExitBootServicesMeasured,
        s.Warnings,
        s.UninterpretedEvents,
        s.ExcludedEvents);

    private static AuthorityJson Authority(BootAuthority a) => new(a.EventIndex, a.VariableName, a.VendorGuid, a.Entry is { } e ? Entry(e) : null, a.Text);

    private static BootApplicationJson App(BootApplication a) => new(
        a.EventIndex,
        TcgEventTypeNames.Name(a.EventType),
        EventLogInput.Bank(a.Bank),
        a.AuthenticodeDigest,
        a.Digests,
        a.DevicePath,
        a.Authority is { } au ? Authority(au) : null,
        a.AuthorityInherited,
        a.BeforeBootOptionCall);

    internal static string BankName(TpmAlgId alg) => EventLogInput.Bank(alg);
}
