using System.CommandLine;
using TrustedLaunch.Cli.Commands.Arm;
using TrustedLaunch.ControlPlane;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Images;
using TrustedLaunch.Server;
using TrustedLaunch.Server.ControlPlane;
using TrustedLaunch.Server.Stores.Sql;
using TrustedLaunch.Server.Stores.Sql.ControlPlane;

namespace TrustedLaunch.Cli.Commands.Image;

/// <summary>
/// <c>tl image register --publisher P --offer O --sku S [--version V] --file DISK</c>: a disk into the control plane's image
/// catalog (<c>PUT …/publishers/P/artifacttypes/vmimage/offers/O/skus/S/versions/V</c>), which probes its generation and
/// judges its boot loader with the Microsoft keys. Also where <c>tl image build</c> offers what it built.
/// </summary>
internal static class ImageRegisterCommand
{
    public static Command Create()
    {
        var publisher = new Option<string>("--publisher") { Description = "Publisher (e.g. Debian).", Required = true };
        var offer = new Option<string>("--offer") { Description = "Offer (e.g. debian-12).", Required = true };
        var sku = new Option<string>("--sku") { Description = "SKU (e.g. 12-gen2).", Required = true };
        var version = new Option<string?>("--version") { Description = "Major.Minor.Build (default: from the file's time, 1.YYYYMMDD.HHMM)." };
        var file = new Option<string>("--file") { Description = "The disk image (raw or qcow2), on the service's machine.", Required = true };
        var location = new Option<string>("--location", "-l") { Description = "Location in the image path (images are platform-wide).", DefaultValueFactory = _ => "local" };
        var command = new Command("register",
            "Register a disk image in the control plane's image catalog (its generation is read from the disk). Exit 0 ok, 2 refused (ARM's code and message), 3 no control plane.")
        {
            publisher, offer, sku, version, file, location,
        };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string disk = Path.GetFullPath(parse.GetValue(file)!);
            if (!File.Exists(disk))
                throw new CliException(ExitCode.BadInput, $"Disk image {parse.GetValue(file)} does not exist.");
            DateTime built = File.GetLastWriteTimeUtc(disk);
            string v = parse.GetValue(version) ?? FormattableString.Invariant($"1.{built:yyyyMMdd}.{built:HHmm}");
            using ArmApi api = arm.Connect(parse);
            string path = $"subscriptions/{await api.SubscriptionAsync(cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Compute/locations/" +
                $"{Uri.EscapeDataString(parse.GetValue(location)!)}/publishers/{Uri.EscapeDataString(parse.GetValue(publisher)!)}/artifacttypes/vmimage/offers/" +
                $"{Uri.EscapeDataString(parse.GetValue(offer)!)}/skus/{Uri.EscapeDataString(parse.GetValue(sku)!)}/versions/{Uri.EscapeDataString(v)}";
            byte[] body = ArmApi.Json(new ImageRegistrationRequest { Properties = new ImageRegistrationProperties { FilePath = disk } },
                ControlPlaneJson.Web.ImageRegistrationRequest);
            ArmAnswer answer = await api.SendAsync(HttpMethod.Put, path, ArmApi.ComputeApiVersion, body, cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), answer.Body!.Value,
            [
                new("Name", i => ArmOutput.At(i, "name")),
                new("HyperVGeneration", i => ArmOutput.At(i, "properties.hyperVGeneration")),
                new("SecureBootCheck", i => ArmOutput.At(i, "properties.secureBootCheck.passes")),
            ]);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    /// <summary>
    /// After <c>tl image build</c>: a default build goes into the image catalog of the service whose database is in
    /// <paramref name="dataDirectory"/> (TL_HOME), written directly (WAL, safe while the service runs), as
    /// <c>tl server vm add</c> does; nothing when there is no database yet (the service registers it at its first start).
    /// </summary>
    public static void OfferBuiltImage(DebianImage image, string? dataDirectory, IProgress<string> progress)
    {
        string database = Path.Combine(Path.GetFullPath(dataDirectory ?? TlHome.Path), AttestationServiceOptions.DatabaseFileName);
        if (!BuiltImages.IsDefaultBuild(image.Manifest) || !File.Exists(database))
            return;
        using SqliteDatabase db = SqliteDatabase.Open(database);
        var store = new SqlImageStore(db);
        var registration = new BuiltImageRegistration(new ImageCatalogService(store, new DiskImageProbe(), TimeProvider.System), store);
        ArmResult<ImageEntry> offered = registration.RegisterAsync(image, CancellationToken.None).GetAwaiter().GetResult();
        progress.Report(offered.Value is ImageEntry entry
            ? $"offered in the image catalog as {entry.Urn} ({entry.Generation})"
            : $"not offered in the image catalog: {offered.Failure!.Error.Message}");
    }
}
