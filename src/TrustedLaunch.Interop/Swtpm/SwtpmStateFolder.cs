namespace TrustedLaunch.Interop.Swtpm;

/// <summary>
/// What tl-vtpm keeps in the folder libvirt gives as swtpm's state directory (<c>--tpmstate dir=</c>): one sealed
/// state file, and the key file that seals it unless libvirt passes a secret (<c>&lt;encryption secret=…&gt;</c>), in which
/// case no key is stored beside the state.
/// </summary>
public static class SwtpmStateFolder
{
    public const string StateFileName = "tl-vtpm.state";
    public const string KeyFileName = "tl-vtpm.key";

    public static string StatePath(string directory) => Path.Combine(directory, StateFileName);

    public static string KeyPath(string directory) => Path.Combine(directory, KeyFileName);
}
