using System.Buffers.Binary;
using System.Text.Json;
using TrustedLaunch.Testing;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;

namespace TrustedLaunch.Uefi.Format.Tests.VariableStore;

public class VariableStoreImageTests
{
    private const string Ovmf = "/usr/share/OVMF";

    public static TheoryData<string> DebianStores => new(Directory.GetFiles(Ovmf, "OVMF_VARS*.fd").Order(StringComparer.Ordinal));

    public static TheoryData<string> CorpusStores => new(
        RepositoryPaths.QemuCaptures.Select(d => Path.Combine(d, "OVMF_VARS.after.fd"))
            .Append(Path.Combine(RepositoryPaths.CorpusRoot, "public", "python-uefivars-t02", "t02.edk2")));

    private static VariableStoreImage Load(string path) => VariableStoreImage.Parse(File.ReadAllBytes(path));

    [IntegrationTest]
    [Theory]
    [MemberData(nameof(DebianStores))]
    public void Parse_DebianStore_HeadersValidFreeSpaceErasedFtwIdle(string path)
    {
        var image = Load(path);
        Assert.Equal(EfiGuids.SystemNvDataFv, image.Volume.FileSystemGuid);
        Assert.True(image.Volume.ChecksumValid);
        Assert.Equal((ulong)new FileInfo(path).Length, image.Volume.FvLength);
        Assert.True(image.StoreHeader.IsAuthenticated);
        Assert.True(image.FreeSpaceErased);
        Assert.Equal(FaultTolerantWriteState.Idle, image.FaultTolerantWrite!.State);
        Assert.Equal(0x642CAF2Cu, image.FaultTolerantWrite.Crc);
    }

    [IntegrationTest]
    [Fact]
    public void Parse_DebianMsStore_LiveVariablesAreTheFactSheetList()
    {
        var image = Load(Path.Combine(Ovmf, "OVMF_VARS_4M.ms.fd"));
        var live = image.LiveVariables;
        string[] expected =
        [
            "certdb", "MTC", "Attempt 1", "Attempt 2", "Attempt 3", "Attempt 4", "Attempt 5", "Attempt 6", "Attempt 7",
            "InitialAttemptOrder", "Attempt 8", "Boot0000", "Timeout", "PlatformLang", "Lang", "VarErrorFlag", "Key0000", "Key0001",
            "ConOut", "ConIn", "ErrOut", "Boot0001", "Boot0002", "MemoryTypeInformation", "db", "dbx", "KEK", "PK", "VendorKeysNv",
            "SecureBootEnable", "CustomMode",
        ];
        Assert.Equal(expected, live.Select(v => v.Name));
        Assert.Equal(0x5998, image.EndOfVariables);
        var db = live.Single(v => v.Name == "db");
        Assert.Equal(EfiGuids.ImageSecurityDatabase, db.VendorGuid);
        Assert.Equal((EfiVariableAttributes)0x27, db.Attributes);
        Assert.Equal(3143, db.Data.Length);
        Assert.Equal(new EfiTime(2025, 3, 10, 2, 53, 39), db.TimeStamp);
        Assert.Equal(1005, live.Single(v => v.Name == "PK").Data.Length);
        Assert.Equal(2565, live.Single(v => v.Name == "KEK").Data.Length);
        Assert.Equal(76, live.Single(v => v.Name == "dbx").Data.Length);
        Assert.Equal([1], live.Single(v => v.Name == "SecureBootEnable").Data.ToArray());
        Assert.Equal([0], live.Single(v => v.Name == "CustomMode").Data.ToArray());
        Assert.All(live, v => Assert.Equal(0UL, v.MonotonicCount));
        // History: deleted CustomMode=00 and =01 and VendorKeysNv=01 precede the live copies.
        Assert.Equal(2, image.Records.Count(r => r.Name == "CustomMode" && r.State == VariableState.Deleted));
        Assert.Contains(image.Records, r => r.Name == "VendorKeysNv" && r.State == VariableState.Deleted && r.Data.Span[0] == 1);
    }

    [Theory]
    [MemberData(nameof(CorpusStores))]
    public void Parse_CorpusStore_ParsesWithUniqueLiveKeys(string path)
    {
        var image = Load(path);
        var live = image.LiveVariables;
        Assert.NotEmpty(live);
        Assert.Equal(live.Count, live.Select(v => (v.VendorGuid, v.Name)).Distinct().Count());
    }

    [Fact]
    public void Parse_PythonUefivarsT02_EqualsItsJson()
    {
        string dir = Path.Combine(RepositoryPaths.CorpusRoot, "public", "python-uefivars-t02");
        var image = Load(Path.Combine(dir, "t02.edk2"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "t02.json")));
        var expected = json.RootElement.GetProperty("variables").EnumerateArray()
            .Select(v => (v.GetProperty("name").GetString()!, Guid.Parse(v.GetProperty("guid").GetString()!), v.GetProperty("attr").GetUInt32(), v.GetProperty("data").GetString()!))
            .OrderBy(v => v.Item1, StringComparer.Ordinal).ToList();
        // python-uefivars folds certdb into per-variable digests and hides it; every other variable must match.
        var actual = image.LiveVariables.Where(v => v.Name != "certdb")
            .Select(v => (v.Name, v.VendorGuid, (uint)v.Attributes, Convert.ToHexStringLower(v.Data.Span)))
            .OrderBy(v => v.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
        // python-uefivars writes no FTW header and fills with 0x00: edk2 would reinitialise and reclaim.
        Assert.Equal(FaultTolerantWriteState.NotInitialised, image.FaultTolerantWrite!.State);
        Assert.False(image.FreeSpaceErased);
    }

    [IntegrationTest]
    [Fact]
    public void Create_NoVariables_ByteIdenticalToDebianEmptyStores()
    {
        Assert.Equal(File.ReadAllBytes(Path.Combine(Ovmf, "OVMF_VARS_4M.fd")), VariableStoreWriter.Create(NvFlashLayout.Ovmf4M, []));
        Assert.Equal(File.ReadAllBytes(Path.Combine(Ovmf, "OVMF_VARS.fd")), VariableStoreWriter.Create(NvFlashLayout.Ovmf2M, []));
    }

    [IntegrationTest]
    [Fact]
    public void Rewrite_LiveVariables_KeepsEverythingOutsideTheRegionAndCompacts()
    {
        byte[] original = File.ReadAllBytes(Path.Combine(Ovmf, "OVMF_VARS_4M.ms.fd"));
        var image = VariableStoreImage.Parse(original);
        byte[] rewritten = VariableStoreWriter.Rewrite(image, image.LiveVariables.Select(UefiVariable.From));
        Assert.Equal(original.AsSpan(0, 0x64).ToArray(), rewritten.AsSpan(0, 0x64).ToArray());
        Assert.Equal(original.AsSpan(0x40000).ToArray(), rewritten.AsSpan(0x40000).ToArray());
        var again = VariableStoreImage.Parse(rewritten);
        Assert.All(again.Records, r => Assert.Equal(VariableState.Added, r.State));
        Assert.Equal(image.LiveVariables.Select(Key), again.Records.Select(Key));
        Assert.True(again.FreeSpaceErased);
        Assert.True(again.EndOfVariables < image.EndOfVariables);

        static (string, Guid, uint, string, EfiTime) Key(StoredVariable v) => (v.Name, v.VendorGuid, (uint)v.Attributes, Convert.ToHexString(v.Data.Span), v.TimeStamp);
    }

    [Fact]
    public void LiveVariables_InDeletedTransition_CountsOnlyWithoutAnAddedCopy()
    {
        var a = new UefiVariable { Name = "A", VendorGuid = EfiGuids.GlobalVariable, Attributes = (EfiVariableAttributes)7, Data = new byte[] { 1 } };
        var a2 = a with { Data = new byte[] { 2 } };
        var b = a with { Name = "B", Data = new byte[] { 3 } };
        byte[] flash = VariableStoreWriter.Create(NvFlashLayout.Ovmf2M, [a, a2, b]);
        var records = VariableStoreImage.Parse(flash).Records;
        flash[records[0].Offset + 2] = 0x3E; // A=1 in deleted transition while A=2 is live: edk2 returns A=2
        flash[records[2].Offset + 2] = 0x3E; // B only in deleted transition: edk2 still returns it
        var live = VariableStoreImage.Parse(flash).LiveVariables;
        Assert.Equal(["A", "B"], live.Select(v => v.Name));
        Assert.Equal([2], live[0].Data.ToArray());
        Assert.Equal(VariableState.InDeletedTransition, live[1].State);

        flash[records[1].Offset + 2] = 0x3C; // A=2 deleted: the IDT copy A=1 is live again
        live = VariableStoreImage.Parse(flash).LiveVariables;
        Assert.Equal([1], live.Single(v => v.Name == "A").Data.ToArray());
    }

    [IntegrationTest]
    [Fact]
    public void Parse_PendingFaultTolerantWrite_IsReportedAndRewriteRefuses()
    {
        byte[] flash = File.ReadAllBytes(Path.Combine(Ovmf, "OVMF_VARS_4M.ms.fd"));
        // First EFI_FAULT_TOLERANT_WRITE_HEADER after the 32-byte working-block header: HeaderAllocated set, Complete not.
        flash[0x41000 + 32] = 0xFE;
        var image = VariableStoreImage.Parse(flash);
        Assert.Equal(FaultTolerantWriteState.WritePending, image.FaultTolerantWrite!.State);
        Assert.Throws<UefiFormatException>(() => VariableStoreWriter.Rewrite(image, image.LiveVariables.Select(UefiVariable.From)));

        flash[0x41000 + 32] = 0xF8; // allocated, writes allocated, complete: a finished write is fine
        Assert.Equal(FaultTolerantWriteState.Idle, VariableStoreImage.Parse(flash).FaultTolerantWrite!.State);
        flash[0x41000 + 16] ^= 1; // CRC broken: the working block no longer counts
        Assert.Equal(FaultTolerantWriteState.NotInitialised, VariableStoreImage.Parse(flash).FaultTolerantWrite!.State);
    }

    [IntegrationTest]
    [Theory]
    [InlineData(36, 0xFFFFFFFFu)] // NameSize
    [InlineData(40, 0xFFFFFFFFu)] // DataSize
    [InlineData(40, 0x7FFFFFF0u)]
    [InlineData(36, 1u)]
    public void Parse_HugeOrOddSizes_ThrowsFormatException(int field, uint value)
    {
        byte[] flash = File.ReadAllBytes(Path.Combine(Ovmf, "OVMF_VARS_4M.ms.fd"));
        BinaryPrimitives.WriteUInt32LittleEndian(flash.AsSpan(0x64 + field), value);
        var e = Assert.Throws<UefiFormatException>(() => VariableStoreImage.Parse(flash));
        Assert.True(e.Offset >= 0x64);
    }

    [IntegrationTest]
    [Fact]
    public void Parse_TruncatedAtEveryOffset_OnlyFormatExceptionsOrSuccess()
    {
        byte[] flash = File.ReadAllBytes(Path.Combine(Ovmf, "OVMF_VARS.ms.fd"));
        for (int length = 0; length < 0x5A00; length += length < 0x200 ? 1 : 7)
            AssertParsesOrFormatError(flash.AsMemory(0, length));
    }

    [IntegrationTest]
    [Fact]
    public void Parse_RandomByteFlips_OnlyFormatExceptionsOrSuccess()
    {
        byte[] original = File.ReadAllBytes(Path.Combine(Ovmf, "OVMF_VARS.ms.fd"));
        var random = new Random(4);
        for (int i = 0; i < 3000; i++)
        {
            byte[] copy = (byte[])original.Clone();
            for (int k = 0; k < 1 + random.Next(4); k++)
                copy[random.Next(0, 0x5A00)] = (byte)random.Next(256);
            if (i % 10 == 0)
                copy[0xF000 + random.Next(0x1000)] = (byte)random.Next(256); // FTW region too
            AssertParsesOrFormatError(copy);
        }
    }

    private static void AssertParsesOrFormatError(ReadOnlyMemory<byte> input)
    {
        try
        {
            var image = VariableStoreImage.Parse(input);
            foreach (var v in image.LiveVariables)
                _ = EfiSignatureList.TryParseAll(v.Data, out _, out _, out _);
        }
        catch (UefiFormatException)
        {
        }
    }
}
