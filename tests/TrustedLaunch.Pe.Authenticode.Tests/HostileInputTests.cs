using System.Buffers.Binary;
using System.Security.Cryptography;
using TrustedLaunch.Pe.Authenticode.Pe;
using TrustedLaunch.Pe.Authenticode.Signatures;
using TrustedLaunch.Testing.Qemu;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Pe.Authenticode.Tests;

/// <summary>Truncated, mutated and crafted images: only <see cref="AuthenticodeException"/>, never another exception.</summary>
[IntegrationTest]
public class HostileInputTests
{
    [Fact]
    public void Parse_EveryTruncationOfTheHeadersAndSampledLater_NoCrash()
    {
        byte[] file = File.ReadAllBytes(DebianBootChain.Fallback);
        for (int length = 0; length < file.Length; length += length < 2048 ? 1 : 509)
            Exercise(file.AsMemory(0, length));
    }

    [Fact]
    public void Parse_RandomMutationsOfSignedImage_TypedErrorsOnly()
    {
        byte[] original = File.ReadAllBytes(DebianBootChain.MokManager);
        var image = PeImage.Parse(original);
        int certStart = (int)image.CertificateTable!.Value.VirtualAddress;
        var random = new Random(20261129);
        for (int round = 0; round < 1500; round++)
        {
            byte[] copy = (byte[])original.Clone();
            int flips = random.Next(1, 8);
            for (int i = 0; i < flips; i++)
            {
                // Mutate the headers or the certificate table, where the parsers look.
                int at = random.Next(2) == 0 ? random.Next(0, 1024) : random.Next(certStart, copy.Length);
                copy[at] = (byte)random.Next(256);
            }

            Exercise(copy);
        }
    }

    [Theory]
    [InlineData("e_lfanew beyond the file", 0x3C, 0x7FFF_FF00u)]
    [InlineData("section SizeOfRawData huge", -1, 0xFFFF_FFFFu)]
    [InlineData("certificate table beyond the file", -2, 0xFFFF_FFF0u)]
    [InlineData("NumberOfSections huge", -3, 0xFFFFu)]
    [InlineData("SizeOfHeaders huge", -4, 0xFFFF_FFFFu)]
    public void Parse_CraftedHugeValues_MalformedImage(string label, int offset, uint value)
    {
        byte[] file = File.ReadAllBytes(DebianBootChain.Fallback);
        var image = PeImage.Parse(file);
        int peOffset = image.PeHeaderOffset;
        int optional = peOffset + 24;
        int sectionTable = optional + BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(peOffset + 20));
        switch (offset)
        {
            case -1: BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(sectionTable + 16), value); break;
            case -2: BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(image.CertificateDirectoryEntryOffset!.Value), value); break;
            case -3: BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(peOffset + 6), (ushort)value); break;
            case -4: BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(optional + 60), value); break;
            default: BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(offset), value); break;
        }

        Assert.False(PeImage.TryParse(file, out _, out var error), label);
        Assert.Equal(AuthenticodeFailure.MalformedImage, error!.Failure);
    }

    [Fact]
    public void Compute_OverlappingSections_HashesBothLikeEdk2()
    {
        byte[] file = File.ReadAllBytes(DebianBootChain.Fallback);
        var image = PeImage.Parse(file);
        int sectionTable = image.PeHeaderOffset + 24 + BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(image.PeHeaderOffset + 20));
        // Point section 1 at section 0's raw data: overlapping sections, which edk2 hashes twice.
        file.AsSpan(sectionTable + 16, 8).CopyTo(file.AsSpan(sectionTable + 40 + 16));
        var overlapped = PeImage.Parse(file);

        byte[] digest = AuthenticodeDigest.Compute(overlapped, HashAlgorithmName.SHA256);
        Assert.NotEqual(AuthenticodeDigest.Compute(image, HashAlgorithmName.SHA256), digest);
        Assert.Equal(overlapped.Sections[0].PointerToRawData, overlapped.Sections[1].PointerToRawData);
    }

    /// <summary>
    /// Found by fuzzing (fuzz/run.sh pe): a section with no raw data (SizeOfRawData 0) may keep any PointerToRawData,
    /// which the parser rightly accepts; FindSectionData then sliced at that pointer past the file's end and threw
    /// ArgumentOutOfRangeException. Such a section's data is empty.
    /// </summary>
    [Fact]
    public void FindSectionData_NoRawDataAndPointerBeyondTheFile_IsEmpty()
    {
        byte[] file = File.ReadAllBytes(DebianBootChain.Fallback);
        var image = PeImage.Parse(file);
        int sectionTable = image.PeHeaderOffset + 24 + BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(image.PeHeaderOffset + 20));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(sectionTable + 16), 0);            // SizeOfRawData
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(sectionTable + 20), 0x7FFF_FF00);  // PointerToRawData
        var edited = PeImage.Parse(file);

        ReadOnlyMemory<byte>? data = edited.FindSectionData(edited.Sections[0].Name);

        Assert.NotNull(data);
        Assert.True(data.Value.IsEmpty);
    }

    [Fact]
    public void Decode_GarbageAndTruncatedSignatures_MalformedSignature()
    {
        var table = AttributeCertificateTable.Read(PeImage.Parse(File.ReadAllBytes(DebianBootChain.Grub)));
        byte[] pkcs7 = table.Entries[0].Pkcs7.ToArray();
        foreach (int length in new[] { 0, 1, 2, 10, 40, 200, pkcs7.Length / 2, pkcs7.Length - 1 })
        {
            var e = Assert.Throws<AuthenticodeException>(() => AuthenticodeSignature.Decode(pkcs7.AsMemory(0, length)));
            Assert.Equal(AuthenticodeFailure.MalformedSignature, e.Failure);
        }

        Assert.Throws<AuthenticodeException>(() => AuthenticodeSignature.Decode(RandomNumberGenerator.GetBytes(512)));
    }

    private static void Exercise(ReadOnlyMemory<byte> data)
    {
        if (!PeImage.TryParse(data, out var image, out var error))
        {
            Assert.NotNull(error);
            return;
        }

        try
        {
            AuthenticodeDigest.Compute(image, HashAlgorithmName.SHA256);
        }
        catch (AuthenticodeException)
        {
        }

        foreach (var entry in AttributeCertificateTable.Read(image).Entries.Where(e => e.IsAuthenticode))
        {
            try
            {
                var signature = AuthenticodeSignature.Decode(entry.Pkcs7);
                signature.TryVerifySignerSignatures(out _);
                if (signature.Signers[0] is { } signer)
                    signature.SignerChain(signer);
            }
            catch (AuthenticodeException)
            {
            }
        }
    }
}
