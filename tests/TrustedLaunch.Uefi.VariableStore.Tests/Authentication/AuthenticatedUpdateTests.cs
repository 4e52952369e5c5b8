using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Testing;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Uefi.VariableStore.Tests.Authentication;

/// <summary>EFI_VARIABLE_AUTHENTICATION_2 against efitools (sign-efi-sig-list) and openssl cms as independent peers.</summary>
[IntegrationTest]
public sealed class AuthenticatedUpdateTests : IDisposable
{
    private static readonly EfiTime Time = new(2024, 5, 1, 10, 20, 30);
    private static readonly Guid Owner = new("11111111-2222-3333-4444-555555555555");
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-auth2");
    private readonly TestKey _pk;
    private readonly TestKey _kek;
    private readonly TestKey _other;

    public AuthenticatedUpdateTests()
    {
        _pk = TestKey.Create(_dir, "pk");
        _kek = TestKey.Create(_dir, "kek");
        _other = TestKey.Create(_dir, "other");
    }

    public void Dispose()
    {
        _pk.Dispose();
        _kek.Dispose();
        _other.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Path_(string name) => Path.Combine(_dir, name);

    private byte[] EfitoolsSign(TestKey signer, string variable, byte[] esl, bool append, string time = "2024-05-01 10:20:30")
    {
        File.WriteAllBytes(Path_("in.esl"), esl);
        var args = new List<string> { "-t", time, "-k", signer.KeyPath, "-c", signer.CertificatePath };
        if (append)
            args.Add("-a");
        args.AddRange([variable, Path_("in.esl"), Path_("out.auth")]);
        var result = ExternalTool.Run("sign-efi-sig-list", args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return File.ReadAllBytes(Path_("out.auth"));
    }

    [Theory]
    [InlineData("db", false)]
    [InlineData("dbx", true)]
    [InlineData("KEK", false)]
    [InlineData("PK", true)]
    public void TimeBasedSigningData_EqualsEfitoolsBundle(string name, bool append)
    {
        byte[] esl = TestStores.Esl(_other, Owner);
        File.WriteAllBytes(Path_("b.esl"), esl);
        var args = new List<string> { "-t", "2024-05-01 10:20:30", "-o" };
        if (append)
            args.Add("-a");
        args.AddRange([name, Path_("b.esl"), Path_("bundle.bin")]);
        var result = ExternalTool.Run("sign-efi-sig-list", args);
        Assert.True(result.ExitCode == 0, result.ToString());
        var key = WellKnownVariables.FromShortName(name)!.Value;
        var attributes = append ? TestStores.AppendAttributes : EfiVariableAttributes.SecureBootDatabase;
        Assert.Equal(File.ReadAllBytes(Path_("bundle.bin")), TimeBasedSigningData.Build(key.Name, key.VendorGuid, attributes, Time, esl));
    }

    [Fact]
    public void Apply_EfitoolsKekSignedDbAppend_AcceptedThenDeduplicated()
    {
        var store = TestStores.Custom(_pk, _kek, _pk);
        byte[] auth = EfitoolsSign(_kek, "db", TestStores.Esl(_other, Owner), append: true);
        var result = SecureBootVariableUpdater.Apply(store, WellKnownVariables.Db, TestStores.AppendAttributes, auth);
        Assert.True(result.Status == VariableUpdateStatus.Applied, result.Message);
        Assert.Equal(_kek.Der, result.Signer!.RawData);
        Assert.Equal([_pk.Der, _other.Der], TestStores.DbCertificates(store).Select(c => c.ToArray()));
        Assert.Equal(Time, store.SecureBoot.Db!.TimeStamp); // later than the 2010 enrolment time, so it is kept

        // Same append again: FilterSignatureList drops the duplicate; an older append does not move the timestamp back.
        byte[] older = EfitoolsSign(_kek, "db", TestStores.Esl(_other, Owner), append: true, time: "2020-01-01 00:00:00");
        Assert.Equal(VariableUpdateStatus.Applied, SecureBootVariableUpdater.Apply(store, WellKnownVariables.Db, TestStores.AppendAttributes, older).Status);
        Assert.Equal(2, TestStores.DbCertificates(store).Count);
        Assert.Equal(Time, store.SecureBoot.Db!.TimeStamp);

        // And the store still serialises and parses back with the update.
        Assert.Equal(2, OvmfVariableStore.Load(store.ToArray()).SecureBoot.Db!.Certificates.Count);
    }

    [Fact]
    public void Apply_Refusals_MatchEdk2Rules()
    {
        var store = TestStores.Custom(_pk, _kek, _pk);
        byte[] esl = TestStores.Esl(_other, Owner);

        // Not in KEK, not the PK: EFI_SECURITY_VIOLATION.
        var byOther = SecureBootVariableUpdater.Apply(store, WellKnownVariables.Db, EfiVariableAttributes.SecureBootDatabase, EfitoolsSign(_other, "db", esl, append: false));
        Assert.Equal(VariableUpdateStatus.SecurityViolation, byOther.Status);

        // Signed for replacement but applied as append: the signed attributes differ, so the signature fails.
        var mismatch = SecureBootVariableUpdater.Apply(store, WellKnownVariables.Db, TestStores.AppendAttributes, EfitoolsSign(_kek, "db", esl, append: false));
        Assert.Equal(VariableUpdateStatus.SecurityViolation, mismatch.Status);

        // KEK may not replace KEK: only the PK may (AuthVarTypePk, no chaining to KEK).
        var kekByKek = SecureBootVariableUpdater.Apply(store, WellKnownVariables.KEK, EfiVariableAttributes.SecureBootDatabase, EfitoolsSign(_kek, "KEK", esl, append: false));
        Assert.Equal(VariableUpdateStatus.SecurityViolation, kekByKek.Status);

        // PK may replace db (ProcessVarWithPk is tried first for db).
        var dbByPk = SecureBootVariableUpdater.Apply(store, WellKnownVariables.Db, EfiVariableAttributes.SecureBootDatabase, EfitoolsSign(_pk, "db", esl, append: false));
        Assert.True(dbByPk.Status == VariableUpdateStatus.Applied, dbByPk.Message);
        Assert.Equal([_other.Der], TestStores.DbCertificates(store).Select(c => c.ToArray()));

        // Replay of a write with the same timestamp: not strictly later, refused.
        var replay = SecureBootVariableUpdater.Apply(store, WellKnownVariables.Db, EfiVariableAttributes.SecureBootDatabase, EfitoolsSign(_pk, "db", esl, append: false));
        Assert.Equal(VariableUpdateStatus.SecurityViolation, replay.Status);

        // One flipped payload byte breaks the signature.
        byte[] tampered = EfitoolsSign(_kek, "db", esl, append: true, time: "2025-01-01 00:00:00");
        tampered[^5] ^= 1;
        Assert.Equal(VariableUpdateStatus.SecurityViolation, SecureBootVariableUpdater.Apply(store, WellKnownVariables.Db, TestStores.AppendAttributes, tampered).Status);
    }

    [Fact]
    public void Apply_PkSignedPkDelete_ReturnsToSetupModeWhereUnsignedWritesPass()
    {
        var store = TestStores.Custom(_pk, _kek, _pk);
        var delete = AuthenticatedVariableSigner.Sign(WellKnownVariables.PK, EfiVariableAttributes.SecureBootDatabase, Time, ReadOnlyMemory<byte>.Empty, _pk.Certificate);
        var result = SecureBootVariableUpdater.Apply(store, WellKnownVariables.PK, EfiVariableAttributes.SecureBootDatabase, delete.Encode());
        Assert.True(result.Status == VariableUpdateStatus.Applied, result.Message);
        Assert.Equal(PlatformMode.Setup, store.SecureBoot.PlatformMode);
        Assert.False(store.SecureBoot.SecureBootEnforced);
        Assert.Null(store.SecureBoot.SecureBootEnable);

        // Setup mode: an update signed by anyone (or no one) is accepted; enrolling PK re-enters user mode.
        var pk = SecureBootVariableUpdater.Apply(store, WellKnownVariables.PK, EfiVariableAttributes.SecureBootDatabase, EfitoolsSign(_other, "PK", TestStores.Esl(_other, Owner), append: false));
        Assert.True(pk.Status == VariableUpdateStatus.Applied, pk.Message);
        Assert.True(store.SecureBoot.SecureBootEnforced);
        Assert.Equal((byte)1, store.SecureBoot.SecureBootEnable);
    }

    [Fact]
    public void Sign_OurUpdate_VerifiesWithOpensslCmsAndOurVerifier()
    {
        byte[] esl = TestStores.Esl(_other, Owner);
        var auth = AuthenticatedVariableSigner.Sign(WellKnownVariables.Dbx, TestStores.AppendAttributes, Time, esl, _kek.Certificate);
        Assert.Equal(0x30, auth.SignedData.Span[0]);
        Assert.False(SignedDataEncoding.IsContentInfo(auth.SignedData.Span)); // bare SignedData, like efitools
        Assert.Null(SignedDataEncoding.CheckEdk2Shape(auth.SignedData.Span));

        File.WriteAllBytes(Path_("content.bin"), TimeBasedSigningData.Build("dbx", EfiGuids.ImageSecurityDatabase, TestStores.AppendAttributes, Time, esl));
        File.WriteAllBytes(Path_("sig.der"), SignedDataEncoding.ToContentInfo(auth.SignedData.Span));
        var ok = ExternalTool.Run("openssl", ["cms", "-verify", "-inform", "DER", "-in", Path_("sig.der"), "-binary", "-content", Path_("content.bin"),
            "-CAfile", _kek.CertificatePath, "-purpose", "any", "-out", Path_("verified.bin")]);
        Assert.True(ok.ExitCode == 0, ok.ToString());

        File.WriteAllBytes(Path_("content.bin"), TimeBasedSigningData.Build("dbx", EfiGuids.ImageSecurityDatabase, EfiVariableAttributes.SecureBootDatabase, Time, esl));
        var wrongAttributes = ExternalTool.Run("openssl", ["cms", "-verify", "-inform", "DER", "-in", Path_("sig.der"), "-binary", "-content", Path_("content.bin"),
            "-CAfile", _kek.CertificatePath, "-purpose", "any", "-out", Path_("verified.bin")]);
        Assert.NotEqual(0, wrongAttributes.ExitCode);

        var parsed = EfiVariableAuthentication2.Parse(auth.Encode());
        Assert.True(AuthenticatedVariableVerifier.Verify(parsed, WellKnownVariables.Dbx, TestStores.AppendAttributes, AuthenticationAnchorKind.KeyExchangeKey, [_kek.Certificate]).Verified);
        Assert.False(AuthenticatedVariableVerifier.Verify(parsed, WellKnownVariables.Db, TestStores.AppendAttributes, AuthenticationAnchorKind.KeyExchangeKey, [_kek.Certificate]).Verified);
        Assert.False(AuthenticatedVariableVerifier.Verify(parsed, WellKnownVariables.Dbx, TestStores.AppendAttributes, AuthenticationAnchorKind.KeyExchangeKey, [_pk.Certificate]).Verified);
    }

    [Fact]
    public void Verify_LeafSignerUnderIntermediateInKek_TrustedThroughPartialChain()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=TL test KEK CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddYears(-10), DateTimeOffset.UtcNow.AddYears(1));
        using var leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest("CN=TL test dbx signer", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        // Expired long ago: edk2 does not check validity times, and neither may we.
        using var leafPublic = leafRequest.Create(ca, DateTimeOffset.UtcNow.AddYears(-5), DateTimeOffset.UtcNow.AddYears(-4), [1, 2, 3]);
        using var leaf = leafPublic.CopyWithPrivateKey(leafKey);

        var auth = AuthenticatedVariableSigner.Sign(WellKnownVariables.Dbx, TestStores.AppendAttributes, Time, TestStores.Esl(_other, Owner), leaf);
        var verdict = AuthenticatedVariableVerifier.Verify(auth, WellKnownVariables.Dbx, TestStores.AppendAttributes, AuthenticationAnchorKind.KeyExchangeKey, [ca]);
        Assert.True(verdict.Verified, verdict.Reason);
        Assert.Equal(ca.RawData, verdict.Anchor!.RawData);
        Assert.False(AuthenticatedVariableVerifier.Verify(auth, WellKnownVariables.Dbx, TestStores.AppendAttributes, AuthenticationAnchorKind.KeyExchangeKey, [_kek.Certificate]).Verified);
    }
}
