using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Rules;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.GuestChannel;
using TrustedLaunch.GuestChannel.Framing;
using TrustedLaunch.GuestChannel.Messages;
using TrustedLaunch.Linux.ModuleSignature;
using TrustedLaunch.Pe.Authenticode;
using TrustedLaunch.Pe.Authenticode.Pe;
using TrustedLaunch.Pe.Authenticode.Signatures;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Protocol.Swtpm;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Fuzz;

/// <summary>
/// Every parser that reads untrusted bytes, one target per format family (docs/fuzzing.md). A target goes past the
/// first parse into what consumes the parsed value (event data, replay, key names, databases), since those read
/// attacker-chosen fields too. Targets that cover several structures pick one with the input's first byte.
/// </summary>
public static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("eventlog", "TCG PC Client event logs (SHA-1 and crypto-agile), every event's data, replay, boot-state summary",
            EventLog, e => e is TcgEventLogFormatException),
        new("tpm", "TPM responses and structures: TPMS_ATTEST, TPMT_PUBLIC, TPMT_SIGNATURE, TPML_PCR_SELECTION, TPM2B_ID_OBJECT, "
                + "TPMS_ECC_POINT, TPMS_CAPABILITY_DATA, TPM2B_NV_PUBLIC, TPML_DIGEST, TPMT_TK_*, response framing, swtpm control, tpm2-tools PCR files",
            Tpm, e => e is TpmFormatException or TpmResponseException),
        new("pe", "PE/COFF images, the attribute certificate table, Authenticode PKCS#7 and the Authenticode digest",
            Pe, e => e is AuthenticodeException),
        new("efi-variables", "EFI_SIGNATURE_LISTs, EFI_VARIABLE_AUTHENTICATION_2, device paths",
            EfiVariables, e => e is UefiFormatException or VariableStoreException),
        new("ovmf-vars", "OVMF variable stores (firmware volume, authenticated variable records, FTW block) and the Secure Boot databases in them",
            OvmfVars, e => e is UefiFormatException or VariableStoreException),
        new("vmgs", "VMGS header slots and their file-table entries, and the choice of the active slot",
            Vmgs, e => e is VmgsException),
        new("modsig", "Linux appended module signatures and kernel images (bzImage payload, built-in certificates)",
            ModuleSignature, e => e is ModuleSignatureException),
        new("guest-frame", "guest-channel frames and the JSON messages in them",
            GuestFrames, e => e is GuestChannelException),
        new("evidence", "the attestation evidence JSON",
            Evidence, e => e is EvidenceFormatException),
        new("arm-vm-body", "the control plane's ARM virtual machine PUT body: JSON, request checks and the Trusted Launch rules",
            ArmVmBody, _ => false),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);

    private static void EventLog(ReadOnlyMemory<byte> input)
    {
        if (!TcgEventLog.TryParse(input, out TcgEventLog? log, out _, out _))
            return;
        foreach (TcgEvent ev in log!.Events)
            TcgEventDataDecoder.TryDecode(ev, out _, out _);
        _ = EventLogReplay.Replay(log);
        _ = BootStateSummarizer.Summarize(log, null);
    }

    private static void Tpm(ReadOnlyMemory<byte> input)
    {
        if (input.IsEmpty)
            return;
        ReadOnlySpan<byte> body = input.Span[1..];
        var reader = new TpmReader(body);
        switch (input.Span[0] % 14)
        {
            case 0:
                _ = TpmsAttest.Parse(body);
                break;
            case 1:
                _ = TpmtPublic.ParseEither(body).ComputeName();
                break;
            case 2:
                _ = TpmtSignature.Parse(body);
                break;
            case 3:
                _ = TpmlPcrSelection.Parse(body);
                break;
            case 4:
                _ = TpmIdObject.Parse(body);
                break;
            case 5:
                _ = TpmsEccPoint.Parse(body);
                break;
            case 6:
                _ = TpmsCapabilityData.Read(ref reader);
                break;
            case 7:
                _ = TpmsNvPublic.ReadSized(ref reader);
                break;
            case 8:
                _ = TpmlDigest.Read(ref reader);
                break;
            case 9:
                _ = TpmtTicket.Read(ref reader);
                break;
            case 10:
                if (body.Length > 0)
                    _ = TpmResponse.Decode(body[1..].ToArray(), TpmCc.Quote, body[0] & 3, (body[0] & 4) != 0);
                break;
            case 11:
                _ = SwtpmControlRequest.Decode(body);
                break;
            case 12:
                if (body.Length > 0)
                    _ = SwtpmControlResponse.Decode((SwtpmControlCommand)body[0], body[1..]);
                break;
            default:
                _ = Tpm2ToolsPcrFile.Parse(body);
                break;
        }
    }

    private static void Pe(ReadOnlyMemory<byte> input)
    {
        if (!PeImage.TryParse(input, out PeImage? image, out _))
            return;
        _ = image.FindSectionData(".sbat");
        AttributeCertificateTable table = AttributeCertificateTable.Read(image);
        foreach (WinCertificate entry in table.Entries)
        {
            if (!entry.IsAuthenticode)
                continue;
            AuthenticodeSignature signature = AuthenticodeSignature.Decode(entry.Pkcs7);
            _ = signature.Signers;
            if (signature.FirmwareDigestAlgorithm is HashAlgorithmName algorithm)
                _ = signature.MatchesImageDigest(AuthenticodeDigest.Compute(image, algorithm));
            _ = signature.TryVerifySignerSignatures(out _);
        }

        _ = AuthenticodeDigest.Compute(image, HashAlgorithmName.SHA256);
    }

    private static void EfiVariables(ReadOnlyMemory<byte> input)
    {
        if (input.IsEmpty)
            return;
        ReadOnlyMemory<byte> body = input[1..];
        switch (input.Span[0] % 3)
        {
            case 0:
                _ = EfiSignatureList.TryParseAll(body, out _, out _, out _);
                break;
            case 1:
                if (EfiVariableAuthentication2.TryParse(body, out EfiVariableAuthentication2? authentication, out _))
                {
                    _ = SignedDataEncoding.CheckEdk2Shape(authentication!.SignedData.Span);
                    _ = EfiSignatureList.TryParseAll(authentication.Payload, out _, out _, out _);
                }

                break;
            default:
                EfiDevicePathText.TryToText(body.Span, out _, out _, out _);
                break;
        }
    }

    private static void OvmfVars(ReadOnlyMemory<byte> input)
    {
        byte[] flash = input.ToArray();
        FixFirmwareVolumeChecksum(flash);
        VariableStoreImage image = VariableStoreImage.Parse(flash);
        foreach (StoredVariable record in image.LiveVariables)
        {
            var variable = UefiVariable.From(record);
            if (variable.VendorGuid == EfiGuids.ImageSecurityDatabase || variable.VendorGuid == EfiGuids.GlobalVariable)
                _ = Uefi.VariableStore.SignatureDatabase.Decode(variable);
        }
    }

    /// <summary>
    /// Lets mutations reach the variable store: AFL++ would almost never hit a valid 16-bit FV header checksum, so
    /// the harness writes it (the refusal of a bad checksum is covered by the unit tests).
    /// </summary>
    private static void FixFirmwareVolumeChecksum(Span<byte> flash)
    {
        const int headerLengthAt = 0x30, checksumAt = 0x32;
        if (flash.Length < FirmwareVolumeHeader.FixedSize)
            return;
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(flash[headerLengthAt..]);
        if (headerLength < FirmwareVolumeHeader.FixedSize || headerLength > flash.Length || headerLength % 2 != 0)
            return;
        BinaryPrimitives.WriteUInt16LittleEndian(flash[checksumAt..], 0);
        ushort sum = 0;
        for (int i = 0; i < headerLength; i += 2)
            sum += BinaryPrimitives.ReadUInt16LittleEndian(flash[i..]);
        BinaryPrimitives.WriteUInt16LittleEndian(flash[checksumAt..], (ushort)-sum);
    }

    private static void Vmgs(ReadOnlyMemory<byte> input)
    {
        // Raw, so the integrity refusals are fuzzed; then with the checksum fixed, so mutations reach the decoder.
        _ = VmgsHeaderCodec.TryRead(input.Span, out _, out _);
        byte[] slot = input.ToArray();
        FixVmgsChecksum(slot);
        _ = VmgsHeaderCodec.TryRead(slot, out _, out _);

        // Two slots: the input's second header (if any) goes in slot 1, so the active-slot choice sees two decoded headers.
        var file = new byte[VmgsLayout.HeaderSlotSize * VmgsLayout.HeaderSlotCount];
        slot.AsSpan(0, Math.Min(slot.Length, VmgsLayout.HeaderSlotSize)).CopyTo(file);
        int half = slot.Length / 2;
        if (half >= VmgsLayout.HeaderFixedSize)
        {
            byte[] second = slot[half..];
            FixVmgsChecksum(second);
            second.AsSpan(0, Math.Min(second.Length, VmgsLayout.HeaderSlotSize)).CopyTo(file.AsSpan(VmgsLayout.HeaderSlotSize));
        }

        _ = VmgsHeaderSlots.SelectActive(VmgsHeaderSlots.ReadBoth(new MemoryBlockStorage(file)));
    }

    /// <summary>Writes the SHA-256 header checksum over the covered length the header claims, when that length is plausible.</summary>
    private static void FixVmgsChecksum(Span<byte> slot)
    {
        const int coveredLengthAt = 12, checksumAt = 144;
        if (slot.Length < VmgsLayout.HeaderFixedSize)
            return;
        uint covered = BinaryPrimitives.ReadUInt32LittleEndian(slot[coveredLengthAt..]);
        if (covered < VmgsLayout.HeaderFixedSize || covered > slot.Length || covered > VmgsLayout.HeaderSlotSize)
            return;
        Span<byte> checksum = slot.Slice(checksumAt, 32);
        checksum.Clear();
        SHA256.HashData(slot[..(int)covered], checksum);
    }

    private static void ModuleSignature(ReadOnlyMemory<byte> input)
    {
        if (AppendedSignature.TryRead(input, out AppendedSignature? _))
            _ = ModuleSignatureVerifier.Verify(input, NoTrustedKeys);
        if (input.Length > 0 && (input.Span[0] & 1) != 0)
            _ = KernelImage.FindPayload(input);
        else
            _ = KernelImage.FindCertificates(input.Span);
    }

    private static readonly X509Certificate2Collection NoTrustedKeys = [];

    private static void GuestFrames(ReadOnlyMemory<byte> input)
    {
        ReadOnlyMemory<byte> rest = input;
        while (GuestFrame.TryDecode(rest.Span, out ReadOnlySpan<byte> payload, out int consumed))
        {
            ReadOnlyMemory<byte> message = rest.Slice(GuestFrame.HeaderBytes, payload.Length);
            // The Try variant must agree with the throwing one: same verdict, and on refusal the same typed error.
            bool decoded = GuestMessageCodec.TryDecode(message, out GuestMessage? _, out GuestChannelException? error);
            if (!decoded)
                throw error!;
            _ = GuestMessageCodec.Decode(message);
            rest = rest[consumed..];
        }
    }

    private static void Evidence(ReadOnlyMemory<byte> input) => _ = EvidenceJson.TryParse(input.Span, out _, out _);

    private static void ArmVmBody(ReadOnlyMemory<byte> input)
    {
        ArmResult<VirtualMachineResource> parsed = ControlPlaneJson.Read(input.Span, ControlPlaneJson.Default.VirtualMachineResource);
        if (parsed.Value is not VirtualMachineResource sent)
            return;
        var plan = VmPlanner.Plan(new VmPlanInput
        {
            Name = "fuzz-vm",
            VmId = Guid.Empty,
            Request = sent,
            Sent = sent,
            Size = sent.Properties?.HardwareProfile?.VmSize is string size ? SizeCatalog.Default.Find(size) : null,
            Image = new ImageLookup(ImageKind.Platform, "Canonical:ubuntu-24_04-lts:server:latest", null, true, HyperVGeneration.V2, "1.0.0"),
        }, RuleTable.Default);
        if (!plan.Accepted)
            _ = plan.ToFailure();
    }
}
