using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>
/// Derives <see cref="BootStateSummary"/> from a <see cref="PcrComparison"/> using only what the replay proves: per PCR,
/// the ordered digests. An event is used only when its digest is part of a matched PCR value; its (PCR, type) must be
/// one <see cref="PcrEventExpectations"/> lists, and where the digest is defined over the data, the data must hash to it
/// in the strongest replayed bank. Types, the order of events across PCRs and data no digest covers are never trusted:
/// an unexpected type lands in <see cref="BootStateSummary.UninterpretedEvents"/>, unproven data in
/// <see cref="BootStateSummary.ExcludedEvents"/>, and only the order within one PCR (PCR 7's separator, PCR 8's
/// command pairs) is read.
/// </summary>
public static class BootStateSummarizer
{
    /// <summary>Parses nothing: summarises an already compared log, checking event data with <paramref name="hash"/> (the BCL by default).</summary>
    public static BootStateSummary Summarize(PcrComparison comparison, ITpmDigest? hash = null)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        return new Builder(comparison, hash ?? BclTpmDigest.Instance).Build();
    }

    /// <summary>Replays <paramref name="log"/>, compares with <paramref name="pcrs"/> (or the log itself when null) and summarises.</summary>
    public static BootStateSummary Summarize(TcgEventLog log, IEnumerable<PcrValue>? pcrs, ITpmDigest? hash = null)
    {
        var replay = EventLogReplay.Replay(log, hash);
        return Summarize(pcrs is null ? PcrComparison.SelfConsistent(replay) : replay.CompareWith(pcrs), hash);
    }

    private sealed class Builder(PcrComparison comparison, ITpmDigest hash)
    {
        private readonly List<BootAuthority> _authorities = [];
        private readonly List<BootApplication> _applications = [];
        private readonly List<BootApplication> _drivers = [];
        private readonly List<string> _grubCommands = [];
        private readonly List<MeasuredFile> _grubFiles = [];
        private readonly List<string> _kernelCommandLines = [];
        private readonly List<string> _shimVariables = [];
        private readonly List<EventReference> _uninterpreted = [];
        private readonly List<ExcludedEvent> _excluded = [];
        private readonly List<string> _warnings = [];
        private readonly HashSet<string> _pcr7Variables = new(StringComparer.Ordinal);
        private readonly KernelArguments _kernelArguments = new();
        private readonly WindowsStateBuilder _windows = new();
        private SecureBootState _secureBoot = new();
        private string? _firmwareVersion;
        private string? _sbatLevel;
        private int _pcr7Separators;
        private bool _callingBootOption;
        private bool _exitBootServices;
        private BootAuthority? _pendingAuthority;
        private BootAuthority? _lastAuthority;

        public BootStateSummary Build()
        {
            foreach (var ev in comparison.Replay.Log.Events)
            {
                if (ev.IsExtended)
                    Add(ev);
            }

            if (_secureBoot.Enabled == true && _authorities.Count == 0 && _applications.Count > 0)
                _warnings.Add("Secure Boot is enabled but no EV_EFI_VARIABLE_AUTHORITY event replayed after the PCR 7 separator");
            _warnings.AddRange(_kernelArguments.Findings());
            string[] distinctCommandLines = _kernelCommandLines.Distinct(StringComparer.Ordinal).ToArray();

            return new BootStateSummary
            {
                PcrValuesVerified = comparison.PcrValuesGiven,
                FirmwareVersion = _firmwareVersion,
                SecureBoot = _secureBoot,
                Authorities = _authorities,
                BootApplications = _applications,
                BootServicesDrivers = _drivers,
                GrubCommands = _grubCommands,
                GrubFiles = _grubFiles,
                KernelCommandLine = distinctCommandLines.Length == 1 ? distinctCommandLines[0] : null,
                KernelCommandLines = _kernelCommandLines,
                KernelArguments = _kernelArguments.Sources,
                Shim = _sbatLevel is null && _shimVariables.Count == 0 ? null : new ShimState { SbatLevel = _sbatLevel, MeasuredVariables = _shimVariables },
                Windows = _windows.Build(),
                ExitBootServicesMeasured = _exitBootServices,
                UninterpretedEvents = _uninterpreted,
                ExcludedEvents = _excluded,
                Warnings = _warnings,
            };
        }

        private void Add(TcgEvent ev)
        {
            var bank = comparison.ReplayedBank(ev);
            if (bank is null)
            {
                _excluded.Add(new ExcludedEvent(ev.Index, ev.PcrIndex, ev.Type, comparison.PcrValuesGiven
                    ? $"PCR {ev.PcrIndex} did not match (or was not given) in any bank this event has a digest for"
                    : $"PCR {ev.PcrIndex} cannot be replayed from the log in any bank"));
                return;
            }

            EventProof proof = PcrEventExpectations.For(ev.PcrIndex, ev.Type);
            if (proof == EventProof.NotExpected)
            {
                Uninterpreted(ev);
                return;
            }

            if (proof == EventProof.DataDigest && DataProof(ev) is string unproven)
            {
                _excluded.Add(new ExcludedEvent(ev.Index, ev.PcrIndex, ev.Type, unproven));
                return;
            }

            if (!TcgEventDataDecoder.TryDecode(ev, out var data, out string? error))
            {
                _excluded.Add(new ExcludedEvent(ev.Index, ev.PcrIndex, ev.Type, $"malformed data: {error}"));
                return;
            }

            if (!Interpret(ev, bank.Value, data!))
                Uninterpreted(ev);
        }

        private void Uninterpreted(TcgEvent ev)
        {
            if (ev.PcrIndex is <= 9 or 14)
                _uninterpreted.Add(new EventReference(ev.Index, ev.PcrIndex, ev.Type));
        }

        /// <summary>
        /// Null when the event's data hashes to its digest in a replayed bank; else why not. The bank is SHA-256 when it
        /// replayed, else the strongest replayed bank this machine can compute: never SHA-1 while a stronger bank
        /// replayed (a SHA-1 collision must not stand in for measured data), and not SHA-384/512 over SHA-256 — a SHA-256
        /// second preimage is as far out of reach, and SHA-256 runs on the CPU's SHA extensions (SHA-512 here measured
        /// +12 µs of ~85 µs per bundle).
        /// </summary>
        private string? DataProof(TcgEvent ev)
        {
            TpmAlgId? checkBank = null;
            foreach (var digest in ev.Digests)
            {
                if (!TpmHashAlgorithm.IsComputable(digest.Algorithm) || !comparison.IsPcrVerified(digest.Algorithm, ev.PcrIndex))
                    continue;
                if (digest.Algorithm == TpmAlgId.Sha256)
                {
                    checkBank = TpmAlgId.Sha256;
                    break;
                }

                if (checkBank is null || PcrComparison.Strength(digest.Algorithm) > PcrComparison.Strength(checkBank.Value))
                    checkBank = digest.Algorithm;
            }

            if (checkBank is null)
                return "its data cannot be checked against a replayed digest";
            return EventDigestVerifier.Check(ev, checkBank.Value, hash) switch
            {
                EventDigestCheck.Verified => null,
                EventDigestCheck.Mismatch => $"the {TpmHashAlgorithm.BankName(checkBank.Value)} digest is not the hash of the logged data",
                _ => $"its data is not what the {TpmHashAlgorithm.BankName(checkBank.Value)} digest covers",
            };
        }

        /// <summary>Returns true when the (PCR, type, data) combination was understood and used.</summary>
        private bool Interpret(TcgEvent ev, TpmAlgId bank, TcgEventData data)
        {
            switch (ev.PcrIndex, ev.Type, data)
            {
                case (0, TcgEventType.SCrtmVersion, TextEventData t):
                    _firmwareVersion = t.Text;
                    return true;
                case (0, TcgEventType.SCrtmVersion, GuidEventData g):
                    _firmwareVersion = g.Value.ToString("D");
                    return true;
                case (_, TcgEventType.Separator, SeparatorEventData s):
                    if (s.IsError)
                        _warnings.Add($"PCR {ev.PcrIndex}: error separator 0x{s.Value:X8} (firmware reports a pre-OS error)");
                    if (ev.PcrIndex == 7)
                        _pcr7Separators++;
                    return true;
                case (7, TcgEventType.EfiVariableDriverConfig, UefiVariableEventData v):
                    SecureBootVariable(v);
                    return true;
                case (7, TcgEventType.EfiVariableAuthority, UefiVariableEventData v):
                    Authority(ev, v);
                    return true;
                case (7, TcgEventType.EfiAction, TextEventData a):
                    // Proven by its digest wherever it sits in PCR 7, and it can only make the verdict worse.
                    if (a.Text == "UEFI Debug Mode")
                        _secureBoot = _secureBoot with { DebugMode = true };
                    else if (a.Text == "DMA Protection Disabled")
                        _secureBoot = _secureBoot with { DmaProtectionDisabled = true };
                    else
                        return false;
                    return true;
                case (4, TcgEventType.EfiAction, TextEventData a):
                    if (a.Text == "Calling EFI Application from Boot Option")
                        _callingBootOption = true;
                    return true;
                case (4, _, UefiImageLoadEventData image):
                    _applications.Add(Image(ev, bank, image, withAuthority: true));
                    return true;
                case (2, _, UefiImageLoadEventData image):
                    _drivers.Add(Image(ev, bank, image, withAuthority: false));
                    return true;
                case (2, _, FirmwareBlobEventData):
                    _drivers.Add(Image(ev, bank, null, withAuthority: false));
                    return true;
                case (5, TcgEventType.EfiAction, TextEventData a):
                    _exitBootServices |= a.Text == EventLogReplay.ExitBootServicesInvocation;
                    return true;
                case (8, TcgEventType.Ipl, IplEventData ipl):
                    return Pcr8String(ev, ipl);
                case (12, TcgEventType.Ipl, IplEventData { Kind: IplEventKind.LoadOptions } ipl):
                    _kernelCommandLines.Add(ipl.Text.Trim());
                    _kernelArguments.Add(ev, ipl);
                    return true;
                case (9, _, IplEventData ipl):
                    _grubFiles.Add(new MeasuredFile(ipl.Text, Hex(ev, bank)));
                    return true;
                case (14, TcgEventType.Ipl, IplEventData { Kind: IplEventKind.ShimVariable } ipl):
                    _shimVariables.Add(ipl.Text);
                    return true;
                case ( >= 12 and <= 14, TcgEventType.EventTag, TaggedEventData { Sipa: { } sipa }):
                    _windows.Add(sipa, ev.PcrIndex);
                    return true;
                case (_, _, _) when PcrEventExpectations.For(ev.PcrIndex, ev.Type) != EventProof.NotExpected:
                    // Expected in this PCR and proven (data checked, or a measured blob whose description nothing relies on).
                    return ev.PcrIndex != 7 && ev.PcrIndex != 8;
                default:
                    return false;
            }
        }

        private bool Pcr8String(TcgEvent ev, IplEventData ipl)
        {
            switch (ipl.Kind)
            {
                case IplEventKind.GrubCommand:
                    _grubCommands.Add(ipl.Text);
                    break;
                case IplEventKind.KernelCommandLine:
                    _kernelCommandLines.Add(ipl.Text);
                    break;
                case IplEventKind.ModuleCommandLine:
                    _grubCommands.Add("module_cmdline: " + ipl.Text);
                    break;
                case IplEventKind.LoadOptions:
                    _kernelCommandLines.Add(ipl.Text.Trim());
                    break;
                default:
                    return false;
            }

            _kernelArguments.Add(ev, ipl);
            return true;
        }

        // PCR 7's own order is proven: configuration before the separator, authorities after it (PFP §10.4.4.1, §3.3.4.8).
        private void SecureBootVariable(UefiVariableEventData v)
        {
            if (_pcr7Separators > 0)
            {
                // Whoever can extend PCR 7 after boot can append a variable event; it describes nothing the firmware enforced.
                _warnings.Add($"PCR 7: {v.Name} measured after the separator (not used)");
                return;
            }

            bool duplicate = !_pcr7Variables.Add(v.Name);
            if (duplicate)
                _warnings.Add($"PCR 7: {v.Name} measured more than once (its state is unknown)");
            if (v.IsSignatureDatabase && v.Database is null)
                _warnings.Add($"PCR 7: {v.Name} holds malformed signature lists: {v.DatabaseError}");
            bool global = v.VendorGuid == EfiGuids.GlobalVariable;
            bool security = v.VendorGuid == EfiGuids.ImageSecurityDatabase;
            SignatureDatabase? database = duplicate ? null : v.Database;
            _secureBoot = (v.Name, global, security) switch
            {
                ("SecureBoot", true, _) => duplicate ? _secureBoot with { Enabled = null } : SecureBootFlag(v),
                ("PK", true, _) => _secureBoot with { Pk = database },
                ("KEK", true, _) => _secureBoot with { Kek = database },
                ("db", _, true) => _secureBoot with { Db = database },
                ("dbx", _, true) => _secureBoot with { Dbx = database },
                ("dbt", _, true) => _secureBoot with { Dbt = database },
                _ => _secureBoot,
            };
        }

        private SecureBootState SecureBootFlag(UefiVariableEventData v)
        {
            if (v.ByteValue is not byte b)
            {
                _warnings.Add($"PCR 7: SecureBoot data length is {v.VariableData.Length}, expected 1");
                return _secureBoot with { Enabled = null };
            }

            if (b > 1)
                _warnings.Add($"PCR 7: SecureBoot value is {b}, expected 0 or 1");
            return _secureBoot with { Enabled = b == 1 ? true : b == 0 ? false : null };
        }

        private void Authority(TcgEvent ev, UefiVariableEventData v)
        {
            if (_pcr7Separators == 0)
            {
                _warnings.Add($"PCR 7: authority {v.Name} measured before the separator (not used)");
                return;
            }

            if (v.TrailingBytes > 0)
                _warnings.Add($"PCR 7: authority {v.Name} has {v.TrailingBytes} stray bytes after its data (old shim)");
            var authority = new BootAuthority(ev.Index, v.Name, v.VendorGuid, v.Authority, v.Authority is null ? v.TextValue : null);
            _authorities.Add(authority);
            if (v.Name == "SbatLevel" && v.VendorGuid == EfiGuids.ShimLock)
                _sbatLevel = v.TextValue;
            else if (authority.Entry is not null)
                _pendingAuthority = authority;
        }

        /// <summary>
        /// A measured image. Its authority is inferred from the log's order of PCR 7 and PCR 4 events, which no digest
        /// covers: information for people, never an input to a verdict (policies use <see cref="BootStateSummary.Authorities"/>).
        /// </summary>
        private BootApplication Image(TcgEvent ev, TpmAlgId bank, UefiImageLoadEventData? image, bool withAuthority)
        {
            BootAuthority? authority = null;
            bool inherited = false;
            if (withAuthority)
            {
                if (_pendingAuthority is not null)
                {
                    authority = _pendingAuthority;
                    _lastAuthority = _pendingAuthority;
                    _pendingAuthority = null;
                }
                else if (_lastAuthority is not null)
                {
                    authority = _lastAuthority;
                    inherited = true;
                }
            }

            var digests = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var d in ev.Digests)
                digests[TpmHashAlgorithm.BankName(d.Algorithm) ?? $"0x{(ushort)d.Algorithm:X4}"] = Convert.ToHexString(d.Value.Span);
            return new BootApplication
            {
                EventIndex = ev.Index,
                EventType = ev.Type,
                Bank = bank,
                AuthenticodeDigest = Hex(ev, bank),
                Digests = digests,
                DevicePath = image?.DevicePathText,
                Authority = authority,
                AuthorityInherited = inherited,
                BeforeBootOptionCall = withAuthority && !_callingBootOption,
            };
        }

        private static string Hex(TcgEvent ev, TpmAlgId bank) =>
            ev.TryGetDigest(bank, out var d) ? Convert.ToHexString(d.Span) : "";
    }
}
