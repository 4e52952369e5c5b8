using TrustedLaunch.Attestation;
using TrustedLaunch.Posture.Inputs;

namespace TrustedLaunch.Posture.Assessments;

/// <summary>A dbx update the operator has loaded: its name and how many entries it carries.</summary>
/// <param name="Name">How reports name it, e.g. <c>DBXUpdate.bin (2026-06-10)</c>.</param>
/// <param name="EntryCount">Its EFI_SIGNATURE_DATA entries. Microsoft's dbx updates are cumulative: each carries every earlier entry.</param>
public sealed record DbxRelease(string Name, int EntryCount);

/// <summary>
/// Evaluates <see cref="SecureBootRolloverRecommendations"/> for one VM from the Secure Boot databases its latest passing
/// attestation proved (PCR 7). Pure, like <see cref="AssessmentEvaluator"/>.
/// </summary>
public static class SecureBootRolloverEvaluator
{
    /// <summary>Causes of the rollover recommendations' NotApplicable and Unhealthy statuses.</summary>
    public static class Causes
    {
        public const string KeysNotAttested = "SecureBootKeysNotAttested";
        public const string NotMicrosoftKeys = "NotMicrosoftKeys";
        public const string Missing2023Certificates = "Missing2023Certificates";
        public const string NoDbxUpdateLoaded = "NoDbxUpdateLoaded";
        public const string DbxOutdated = "DbxOutdated";
    }

    /// <param name="attested">KEK/db/dbx of the VM's latest passing attestation; null when it has none (or it predates the claim).</param>
    /// <param name="newestDbx">The newest dbx update the operator loaded; null for none.</param>
    public static IReadOnlyList<AssessmentOutcome> Evaluate(PostureVm vm, SecureBootKeys? attested, DbxRelease? newestDbx)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return [Certificates(vm, attested), Dbx(vm, attested, newestDbx)];
    }

    private static AssessmentOutcome Certificates(PostureVm vm, SecureBootKeys? keys)
    {
        Recommendation r = SecureBootRolloverRecommendations.Certificates2023;
        if (NotApplicable(vm, keys, r) is { } na)
            return na;
        var missing = new List<string>();
        if (!keys!.Kek.Any(k => Is(k, MicrosoftSecureBootKeys.KekCa2023)))
            missing.Add("KEK lacks Microsoft Corporation KEK 2K CA 2023");
        if (!keys.Db.Any(k => Is(k, MicrosoftSecureBootKeys.UefiCa2023)))
            missing.Add("db lacks Microsoft UEFI CA 2023");
        return missing.Count == 0
            ? new(r, AssessmentStatusCode.Healthy, null, "The attested KEK and db hold Microsoft's 2023 CAs.")
            : new(r, AssessmentStatusCode.Unhealthy, Causes.Missing2023Certificates,
                $"As attested (PCR 7): {string.Join("; ", missing)}. A boot loader signed only by the 2023 CA will be refused.");
    }

    private static AssessmentOutcome Dbx(PostureVm vm, SecureBootKeys? keys, DbxRelease? newest)
    {
        Recommendation r = SecureBootRolloverRecommendations.DbxCurrent;
        if (NotApplicable(vm, keys, r) is { } na)
            return na;
        if (newest is null)
            return new(r, AssessmentStatusCode.NotApplicable, Causes.NoDbxUpdateLoaded, "No dbx update is loaded to compare with.");
        // Microsoft's updates are cumulative and applied with APPEND_WRITE (entries already present are dropped), so a dbx
        // that took the newest update holds at least its entries; fewer means an older level.
        return keys!.DbxCount >= newest.EntryCount
            ? new(r, AssessmentStatusCode.Healthy, null, $"The attested dbx holds {keys.DbxCount} entries, at least the {newest.EntryCount} of {newest.Name}.")
            : new(r, AssessmentStatusCode.Unhealthy, Causes.DbxOutdated,
                $"The attested dbx holds {keys.DbxCount} entries, fewer than the {newest.EntryCount} of {newest.Name}: it predates that update.");
    }

    private static AssessmentOutcome? NotApplicable(PostureVm vm, SecureBootKeys? keys, Recommendation r)
    {
        if (!vm.TrustedLaunch || !vm.SecureBootEnabled || !vm.VTpmEnabled)
            return new(r, AssessmentStatusCode.NotApplicable, AssessmentEvaluator.Causes.SecureBootOrVTpmDisabled,
                "Only Trusted Launch VMs with Secure Boot and vTPM attest their Secure Boot keys.");
        if (!vm.Running)
            return new(r, AssessmentStatusCode.NotApplicable, AssessmentEvaluator.Causes.VmNotRunning, "The VM is not running, so its keys are not attested.");
        if (keys is null)
            return new(r, AssessmentStatusCode.NotApplicable, Causes.KeysNotAttested, "No passing attestation of this VM carries its Secure Boot keys yet.");
        if (!keys.Kek.Any(k => MicrosoftSecureBootKeys.Kek.Contains(k.Sha256)) && !keys.Db.Any(k => MicrosoftSecureBootKeys.Db.Contains(k.Sha256)))
            return new(r, AssessmentStatusCode.NotApplicable, Causes.NotMicrosoftKeys, "The VM's KEK and db hold none of Microsoft's CAs (its own keys).");
        return null;
    }

    private static bool Is(KeyEntry entry, string sha256) => string.Equals(entry.Sha256, sha256, StringComparison.OrdinalIgnoreCase);
}
