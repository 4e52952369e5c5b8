using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>
/// The pre-flight of an update that switches Secure Boot on (the upgrade of a Standard VM to Trusted Launch, or
/// <c>secureBootEnabled</c> false → true): the boot chain of the image the VM's OS disk was made from is judged against
/// the VM's new db/dbx before anything changes, and the update is refused with the refused binary and the firmware's
/// reason if the VM would not boot. Azure has no such check; its users find out at the next boot.
/// </summary>
public sealed class SecureBootPreflight(ImageCatalogService images, IBootChainVerifier verifier)
{
    public const string FailedCode = "SecureBootPreflightFailed";
    public const string UnavailableCode = "SecureBootPreflightUnavailable";
    private const string Target = "properties.securityProfile.uefiSettings.secureBootEnabled";
    private const string ImageBootLoader = "/EFI/BOOT/BOOTX64.EFI";

    /// <summary>Null when <paramref name="model"/> does not switch Secure Boot on, or the boot chain passes; else the refusal.</summary>
    public async Task<ArmFailure?> CheckAsync(VirtualMachineRecord previous, VirtualMachineModel model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(model);
        if (!SwitchesSecureBootOn(previous.Model, model))
            return null;
        ImageEntry? image = await images.FindExactAsync(model.Properties.StorageProfile?.ImageReference, cancellationToken);
        if (image is null)
        {
            return ArmErrors.Fail(ArmErrors.Conflict, UnavailableCode,
                $"Secure Boot cannot be switched on for VM '{previous.Name}' now: the image its OS disk was made from is no longer registered, so its " +
                "boot chain cannot be checked against the VM's new db before the change. Register the image again (tl image register), or update " +
                "with secureBootEnabled false.", Target);
        }

        string template = model.Properties.TrustedLaunchExtensions?.SecureBootTemplate ?? VmPlanner.MicrosoftTemplate;
        Model.SecureBootKeys? keys = model.Properties.TrustedLaunchExtensions?.SecureBootKeys;
        // The image's registration already judged its boot loader with the Microsoft template's keys; the disk is read
        // again only for other keys (and when that judgement had no answer).
        BootChainVerdict verdict = template == VmPlanner.MicrosoftTemplate && keys is null && image.SecureBoot.Passes is bool passes
            ? new BootChainVerdict(passes, ImageBootLoader, image.SecureBoot.Detail)
            : await verifier.VerifyAsync(image.FilePath, template, keys, cancellationToken);
        if (verdict.Allowed == true)
            return null;
        string why = verdict.Allowed is null ? "could not be judged" : "would be refused";
        return ArmErrors.Fail(ArmErrors.BadRequest, FailedCode,
            $"Secure Boot would not boot VM '{previous.Name}': {verdict.Binary} on its OS disk (image {image.Urn}) {why} with the VM's new " +
            $"db/dbx (secureBootTemplate '{template}'): {verdict.Detail} Nothing was changed. Choose keys that allow the boot chain, fix the " +
            "boot chain, or update with secureBootEnabled false.", Target);
    }

    /// <summary>The new model boots with Secure Boot and the old one did not.</summary>
    public static bool SwitchesSecureBootOn(VirtualMachineModel before, VirtualMachineModel after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        static bool On(VirtualMachineModel m) => m.Properties.SecurityProfile is { SecurityType: VmPlanner.TrustedLaunch, UefiSettings.SecureBootEnabled: true };
        return On(after) && !On(before);
    }
}
