using System.Buffers.Binary;
using System.Text;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel.Framing;
using TrustedLaunch.GuestChannel.Messages;
using TrustedLaunch.Pe.Authenticode.Pe;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;
using TrustedLaunch.Vmgs.Format;

namespace TrustedLaunch.Fuzz;

/// <summary>
/// Builds each target's starting corpus from the repository's test corpus and golden files (tests/corpus, the test
/// projects' Golden folders), plus files the caller passes (the Debian boot chain for pe and modsig). Structures the
/// corpus holds only inside something larger (signature lists in a variable store, device paths in Boot####) are cut
/// out of it; the targets that pick a structure by the first byte get that byte in front.
/// </summary>
internal static class SeedCorpus
{
    /// <summary>AFL++ runs slower on every byte of a seed; whole files above this are left out.</summary>
    private const int MaxSeedBytes = 128 * 1024;

    public static int Write(string target, string outputDirectory, string repositoryRoot, IReadOnlyList<string> extraFiles)
    {
        Directory.CreateDirectory(outputDirectory);
        var seeds = new List<byte[]>(Seeds(target, repositoryRoot, extraFiles).Where(s => s.Length is > 0 and <= MaxSeedBytes));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int written = 0;
        foreach (byte[] seed in seeds)
        {
            string hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(seed))[..16];
            if (seen.Add(hash))
            {
                File.WriteAllBytes(Path.Combine(outputDirectory, $"seed-{hash}"), seed);
                written++;
            }
        }

        return written;
    }

    private static IEnumerable<byte[]> Seeds(string target, string root, IReadOnlyList<string> extraFiles) => target switch
    {
        "eventlog" => Files(root, "tests/corpus", "binary_bios_measurements").OrderBy(f => f.Length).Take(12),
        "tpm" => TpmSeeds(root),
        "pe" => extraFiles.Where(f => f.EndsWith(".efi.signed", StringComparison.Ordinal)).Select(File.ReadAllBytes),
        "efi-variables" => EfiVariableSeeds(root, extraFiles),
        "ovmf-vars" => Files(root, "tests/corpus", "OVMF_VARS.after.fd").Concat(Files(root, "tests/corpus/public", "t02.edk2")).Select(Shrink),
        "vmgs" => VmgsSeeds(),
        "modsig" => extraFiles.Where(f => f.EndsWith(".ko", StringComparison.Ordinal)).Select(File.ReadAllBytes),
        "guest-frame" => GuestFrameSeeds(root),
        "evidence" => EvidenceFiles(root),
        "arm-vm-body" => ArmBodies.Select(b => Encoding.UTF8.GetBytes(b)),
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, "no seeds for this target"),
    };

    private static IEnumerable<byte[]> Files(string root, string under, string fileName) =>
        Directory.EnumerateFiles(Path.Combine(root, under), fileName, SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes);

    private static IEnumerable<byte[]> EvidenceFiles(string root) =>
        Directory.EnumerateFiles(Path.Combine(root, "tests"), "evidence-*.json", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).Select(File.ReadAllBytes);

    private static byte[] Prefixed(byte selector, ReadOnlySpan<byte> body) => [selector, .. body];

    private static IEnumerable<byte[]> TpmSeeds(string root)
    {
        // The public quotes with their AKs and signatures (go-attestation, go-tpm-tools).
        foreach (byte[] quote in Files(root, "tests/corpus/public", "quote*.bin"))
            yield return Prefixed(0, quote);
        foreach (byte[] attest in Files(root, "tests/corpus/public", "ak_creation_attest.bin"))
            yield return Prefixed(0, attest);
        foreach (byte[] ak in Files(root, "tests/corpus/public", "ak.pub"))
            yield return Prefixed(1, ak);
        foreach (byte[] signature in Files(root, "tests/corpus/public", "quote*.sig").Take(3))
            yield return Prefixed(2, signature);

        // Small hand-encoded structures for the rest (TPM 2.0 Part 2 layouts, big-endian).
        yield return Prefixed(3, Convert.FromHexString("00000002000B03FFFFFF000403FFFFFF"));              // TPML_PCR_SELECTION: sha256, sha1
        yield return Prefixed(4, Convert.FromHexString("0044" + "0020" + new string('A', 64) + "0020" + new string('B', 64))); // TPM2B_ID_OBJECT
        yield return Prefixed(5, Convert.FromHexString("0020" + new string('1', 64) + "0020" + new string('2', 64)));        // TPMS_ECC_POINT
        yield return Prefixed(6, Convert.FromHexString("00000000" + "00000002" + "00000001" + "00000100"));                  // TPMS_CAPABILITY_DATA: algs
        yield return Prefixed(7, Convert.FromHexString("000E" + "01C00002" + "000B" + "00040002" + "0000" + "0004"));          // TPM2B_NV_PUBLIC
        yield return Prefixed(8, Convert.FromHexString("00000002" + "0020" + new string('C', 64) + "0014" + new string('D', 40))); // TPML_DIGEST
        yield return Prefixed(9, Convert.FromHexString("8024" + "40000001" + "0000"));                                        // TPMT_TK_HASHCHECK
        yield return Prefixed(10, Convert.FromHexString("00" + "8001" + "0000000A" + "00000000"));                            // response header
        yield return Prefixed(10, Convert.FromHexString("01" + "8002" + "0000000A" + "00000101"));                            // error response
        yield return Prefixed(11, Convert.FromHexString("00000001"));                                                        // swtpm CMD_GET_CAPABILITY
        yield return Prefixed(12, Convert.FromHexString("01" + "00000000" + "00007FFF"));                                    // its response
        yield return Prefixed(13, Convert.FromHexString("00000001" + "000B03FFFFFF" + "00000001" + new string('E', 64)));
    }

    private static IEnumerable<byte[]> EfiVariableSeeds(string root, IReadOnlyList<string> extraFiles)
    {
        byte[] flash = File.ReadAllBytes(Path.Combine(root, "tests/corpus/qemu/ovmf4m-ms-sb-crb/OVMF_VARS.after.fd"));
        var image = VariableStoreImage.Parse(flash);
        byte[]? smallList = null;
        foreach (StoredVariable variable in image.LiveVariables)
        {
            if (variable.Name is "PK" or "KEK" or "db" or "dbx" or "MokListRT")
            {
                smallList ??= variable.Name == "PK" ? variable.Data.ToArray() : null;
                yield return Prefixed(0, variable.Data.Span);
            }
            else if (variable.Name.StartsWith("Boot0", StringComparison.Ordinal) && DevicePathOfLoadOption(variable.Data.Span) is byte[] path)
            {
                yield return Prefixed(2, path);
            }
        }

        // EFI_VARIABLE_AUTHENTICATION_2 around the PK list, signed with a real Authenticode PKCS#7 (fallback's).
        string? signedImage = extraFiles.FirstOrDefault(f => f.EndsWith(".efi.signed", StringComparison.Ordinal));
        if (smallList is not null && signedImage is not null && PeImage.TryParse(File.ReadAllBytes(signedImage), out PeImage? pe, out _))
        {
            var table = Pe.Authenticode.Signatures.AttributeCertificateTable.Read(pe);
            ReadOnlySpan<byte> pkcs7 = table.Entries[0].Pkcs7.Span;
            var auth = new List<byte>();
            auth.AddRange(Convert.FromHexString("E80701010C0000000000000000000000"));           // EFI_TIME 2024-01-01 12:00:00
            Span<byte> header = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(24 + pkcs7.Length));       // dwLength
            BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 0x0200);                      // WIN_CERT_REVISION_2_0
            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 0x0EF1);                      // WIN_CERT_TYPE_EFI_GUID
            auth.AddRange(header.ToArray());
            auth.AddRange(EfiGuids.CertTypePkcs7.ToByteArray());
            auth.AddRange(pkcs7.ToArray());
            auth.AddRange(smallList);
            yield return Prefixed(1, auth.ToArray());
        }
    }

    /// <summary>The FilePathList of an EFI_LOAD_OPTION (UEFI 2.10 §3.1.3): attributes, path length, description, path.</summary>
    private static byte[]? DevicePathOfLoadOption(ReadOnlySpan<byte> option)
    {
        if (option.Length < 6)
            return null;
        int pathLength = BinaryPrimitives.ReadUInt16LittleEndian(option[4..]);
        int at = 6;
        while (at + 1 < option.Length && (option[at] | option[at + 1]) != 0)
            at += 2;
        at += 2;
        return at + pathLength <= option.Length ? option.Slice(at, pathLength).ToArray() : null;
    }

    /// <summary>
    /// Cuts a variable store down to its used part (the live records plus a little free space), rewriting the FV
    /// length and the store size to match, so the seed is a few KB instead of 528 KB. The harness fixes the checksum.
    /// </summary>
    private static byte[] Shrink(byte[] flash)
    {
        var image = VariableStoreImage.Parse(flash);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(flash.AsSpan(0x30));
        int used = headerLength + VariableStoreHeader.EncodedSize;
        foreach (StoredVariable record in image.LiveVariables)
            used = Math.Max(used, (int)(record.Offset + StoredVariable.AuthenticatedHeaderSize + ((record.Name.Length + 1) * 2) + record.Data.Length));
        int length = (used + 64 + 3) & ~3;
        byte[] shrunk = flash.AsSpan(0, Math.Min(length, flash.Length)).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(shrunk.AsSpan(0x20), (ulong)shrunk.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(shrunk.AsSpan(headerLength + 16), (uint)(shrunk.Length - headerLength));
        return shrunk;
    }

    private static IEnumerable<byte[]> VmgsSeeds()
    {
        VmgsEntry Entry(VmgsEntryId id, long offset, int length, ulong generation) => new()
        {
            Id = id,
            Generation = generation,
            Offset = offset,
            Length = length,
            AllocatedLength = VmgsEntry.AllocationFor(length),
            Nonce = Enumerable.Range(1, 12).Select(i => (byte)i).ToArray(),
            Tag = Enumerable.Range(100, 16).Select(i => (byte)i).ToArray(),
        };
        var first = new VmgsHeader
        {
            Sequence = 7,
            FileId = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"),
            KekThumbprint = Enumerable.Repeat((byte)0xAB, 16).ToArray(),
            WrappedDataKey = Enumerable.Repeat((byte)0xCD, 40).ToArray(),
            Entries = [Entry(VmgsEntryId.UefiNvram, 8192, 540_672, 3), Entry(VmgsEntryId.VTpmState, 8192 + 540_672, 65_536, 7)],
        };
        var second = first with { Sequence = 8, Entries = [.. first.Entries, Entry((VmgsEntryId)3, 8192 + 540_672 + 65_536, 300, 1)] };
        byte[] a = VmgsHeaderCodec.Encode(first), b = VmgsHeaderCodec.Encode(second with { Entries = first.Entries });
        yield return a;
        yield return VmgsHeaderCodec.Encode(second);
        yield return [.. a, .. b];
        yield return VmgsHeaderCodec.Encode(first with { Entries = [] });
    }

    private static IEnumerable<byte[]> GuestFrameSeeds(string root)
    {
        var messages = new List<GuestMessage>
        {
            new PingRequest(1),
            new AttestRequest(2, [1, 2, 3, 4, 5, 6, 7, 8], [0, 7, 14]),
            new HeartbeatMessage(null, HeartbeatStatus.Ready, 120, "1.0.0"),
            new ErrorMessage(3, GuestErrorCodes.MalformedMessage, "malformed message"),
            new TokenMessage(5, "eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.a2V5.aXY.Y2lwaGVy.dGFn", """{"keys":[{"kty":"EC","crv":"P-256","x":"AQ","y":"Ag","kid":"k"}]}"""),
            new TokenStoredMessage(5, "k", DateTimeOffset.UnixEpoch, "/run/tl/attestation-token.jwt"),
        };
        foreach (byte[] json in EvidenceFiles(root).Take(1))
        {
            if (EvidenceJson.TryParse(json, out AttestationEvidence? evidence, out _))
                messages.Add(new EvidenceMessage(4, evidence!));
        }

        foreach (GuestMessage message in messages)
            yield return GuestFrame.Encode(GuestMessageCodec.Encode(message));
        yield return [.. GuestFrame.Encode(GuestMessageCodec.Encode(messages[0])), .. GuestFrame.Encode(GuestMessageCodec.Encode(messages[1]))];
    }

    /// <summary>ARM PUT bodies as az and the REST docs send them: Standard, Trusted Launch, Confidential VM, a bad one.</summary>
    private static readonly string[] ArmBodies =
    [
        """{"location":"westus","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},"storageProfile":{"imageReference":{"publisher":"Debian","offer":"debian-12","sku":"12-gen2","version":"latest"}}}}""",
        """{"location":"westus","tags":{"env":"test"},"properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v5"},"securityProfile":{"securityType":"TrustedLaunch","uefiSettings":{"secureBootEnabled":true,"vTpmEnabled":true}},"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"},"osDisk":{"createOption":"FromImage","managedDisk":{"storageAccountType":"Premium_LRS"}}},"osProfile":{"computerName":"vm1","adminUsername":"azureuser","linuxConfiguration":{"disablePasswordAuthentication":true}}}}""",
        """{"location":"westus","properties":{"hardwareProfile":{"vmSize":"Standard_DC2as_v5"},"securityProfile":{"securityType":"ConfidentialVM","uefiSettings":{"secureBootEnabled":true,"vTpmEnabled":true},"encryptionAtHost":false},"storageProfile":{"osDisk":{"createOption":"FromImage","managedDisk":{"securityProfile":{"securityEncryptionType":"VMGuestStateOnly"}}}}}}""",
        """{"location":"westus","properties":{"securityProfile":{"securityType":"TrustedLaunch","uefiSettings":{"secureBootEnabled":"yes"}}}}""",
    ];
}
