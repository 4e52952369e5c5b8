namespace TrustedLaunch.Tcg.EventLog;

/// <summary>How the content of an event of one type in one PCR is tied to its digest.</summary>
public enum EventProof
{
    /// <summary>Platforms do not log this type in this PCR: the event is an anomaly, whatever its data says.</summary>
    NotExpected,

    /// <summary>The digest is the hash of the event data (<see cref="EventDigestVerifier"/>): the data is proven once it is checked.</summary>
    DataDigest,

    /// <summary>
    /// The digest is of something the log does not carry (a PE image, a firmware volume, a file, a variable's content);
    /// the event data is an unauthenticated description. Every type of this kind allowed in a PCR is treated alike, so
    /// relabelling one as another cannot remove it from what the appraisal sees.
    /// </summary>
    MeasuredContent,
}

/// <summary>
/// Which event types the platforms this product appraises (OVMF/edk2, shim, GRUB, systemd-boot, the Linux EFI stub,
/// Windows boot manager, and the public firmware logs in the test corpus) put in which PCR, and how each is proven.
/// The event type is not covered by any digest, so it only selects how the event is checked: an event whose type is
/// not expected in its PCR is an anomaly, and an event whose data should hash to its digest but does not is excluded.
/// </summary>
public static class PcrEventExpectations
{
    /// <summary>The proof rule for <paramref name="type"/> in <paramref name="pcr"/>.</summary>
    public static EventProof For(uint pcr, TcgEventType type) => (pcr, type) switch
    {
        // PFP 1.06 §10.4.4: every PCR 0-7 gets an EV_SEPARATOR; Windows also separates 12-14 ("WBCL").
        (_, TcgEventType.Separator) => EventProof.DataDigest,

        // PCR 0: SRTM, POST BIOS and embedded option ROMs (PFP §3.3.4.1).
        (0, TcgEventType.SCrtmVersion) => EventProof.DataDigest,
        (0, TcgEventType.EfiPlatformFirmwareBlob or TcgEventType.EfiPlatformFirmwareBlob2 or TcgEventType.PostCode
            or TcgEventType.NonhostCode or TcgEventType.NonhostInfo or TcgEventType.SCrtmContents or TcgEventType.EfiHcrtmEvent
            or TcgEventType.CpuMicrocode or TcgEventType.EfiHandoffTables or TcgEventType.EfiHandoffTables2) => EventProof.MeasuredContent,

        // PCR 1: host platform configuration (§3.3.4.2).
        (1, TcgEventType.EfiVariableBoot or TcgEventType.EfiVariableBoot2 or TcgEventType.EfiVariableDriverConfig
            or TcgEventType.EfiAction) => EventProof.DataDigest,
        (1, TcgEventType.EfiHandoffTables or TcgEventType.EfiHandoffTables2 or TcgEventType.PlatformConfigFlags
            or TcgEventType.CpuMicrocode or TcgEventType.NonhostConfig or TcgEventType.TableOfDevices) => EventProof.MeasuredContent,

        // PCR 2: UEFI drivers and option ROMs (§3.3.4.3).
        (2, TcgEventType.EfiBootServicesDriver or TcgEventType.EfiRuntimeServicesDriver or TcgEventType.EfiPlatformFirmwareBlob
            or TcgEventType.EfiPlatformFirmwareBlob2 or TcgEventType.NonhostCode or TcgEventType.EfiSpdmFirmwareBlob) => EventProof.MeasuredContent,

        // PCR 3: their configuration (§3.3.4.4).
        (3, TcgEventType.EfiVariableDriverConfig) => EventProof.DataDigest,
        (3, TcgEventType.NonhostConfig or TcgEventType.EfiSpdmFirmwareConfig) => EventProof.MeasuredContent,

        // PCR 4: boot manager code and boot attempts (§3.3.4.5). Every image type is part of the boot chain.
        (4, TcgEventType.EfiAction) => EventProof.DataDigest,
        (4, TcgEventType.EfiBootServicesApplication or TcgEventType.EfiBootServicesDriver
            or TcgEventType.EfiRuntimeServicesDriver) => EventProof.MeasuredContent,

        // PCR 5: boot manager configuration, GPT, ExitBootServices (§3.3.4.6).
        (5, TcgEventType.EfiGptEvent or TcgEventType.EfiGptEvent2 or TcgEventType.EfiVariableBoot
            or TcgEventType.EfiAction) => EventProof.DataDigest,
        (5, TcgEventType.EfiHandoffTables) => EventProof.MeasuredContent,

        // PCR 6: host platform manufacturer specific; OVMF logs only the separator.
        (6, TcgEventType.CompactHash) => EventProof.DataDigest,

        // PCR 7: Secure Boot policy (§3.3.4.8): variables before the separator, authorities after, debug/DMA actions.
        // OVMF logs no SPDM events; a platform that does is outside what this appraiser vouches for.
        (7, TcgEventType.EfiVariableDriverConfig or TcgEventType.EfiVariableAuthority or TcgEventType.EfiAction) => EventProof.DataDigest,

        // PCR 8: GRUB's commands and command lines (digest over the text after its prefix), systemd-boot's UTF-16 load options.
        (8, TcgEventType.Ipl) => EventProof.DataDigest,

        // PCR 9: files GRUB read; the Linux EFI stub's initrd and load-options tags.
        (9, TcgEventType.Ipl or TcgEventType.EventTag) => EventProof.MeasuredContent,

        // PCR 12-14: Windows SIPA records (digest over the data); systemd-boot/stub load options in 12.
        (12 or 13 or 14, TcgEventType.EventTag) => EventProof.DataDigest,
        (12, TcgEventType.Ipl) => EventProof.DataDigest,

        // PCR 14: shim's MOK variables (the digest is the variable's content, the data its name).
        (14, TcgEventType.Ipl) => EventProof.MeasuredContent,
        _ => EventProof.NotExpected,
    };
}
