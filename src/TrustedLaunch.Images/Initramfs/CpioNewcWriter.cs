using System.Globalization;
using System.Text;

namespace TrustedLaunch.Images.Initramfs;

/// <summary>
/// Writes a cpio archive in the "newc" format the kernel unpacks as an initramfs (Documentation/driver-api/
/// early-userspace/buffer-format.rst). Written here rather than with cpio(1) because the archive can then hold a
/// device node (/dev/console) without root, and because every field is fixed (mtime 0, uid/gid 0, inode numbers in
/// order) the archive is byte-for-byte reproducible.
/// </summary>
public sealed class CpioNewcWriter(Stream output)
{
    private const int FileTypeDirectory = 0x4000;  // S_IFDIR
    private const int FileTypeRegular = 0x8000;    // S_IFREG
    private const int FileTypeSymlink = 0xA000;    // S_IFLNK
    private const int FileTypeCharDevice = 0x2000; // S_IFCHR
    private uint _nextInode = 1;
    private long _position;

    public void AddDirectory(string path, int permissions = 0x1ED /* 0755 */) =>
        WriteEntry(path, FileTypeDirectory | permissions, [], 2, 0, 0);

    public void AddFile(string path, ReadOnlySpan<byte> content, int permissions = 0x1A4 /* 0644 */) =>
        WriteEntry(path, FileTypeRegular | permissions, content, 1, 0, 0);

    public void AddSymlink(string path, string target) =>
        WriteEntry(path, FileTypeSymlink | 0x1FF, Encoding.UTF8.GetBytes(target), 1, 0, 0);

    public void AddCharDevice(string path, int major, int minor, int permissions = 0x180 /* 0600 */) =>
        WriteEntry(path, FileTypeCharDevice | permissions, [], 1, major, minor);

    /// <summary>Writes the TRAILER!!! entry that ends the archive, padded to a 512-byte block.</summary>
    public void Finish()
    {
        WriteEntry("TRAILER!!!", 0, [], 1, 0, 0, inode: 0);
        int pad = (int)((512 - (_position % 512)) % 512);
        Write(new byte[pad]);
    }

    private void WriteEntry(string path, int mode, ReadOnlySpan<byte> content, int links, int rdevMajor, int rdevMinor, uint? inode = null)
    {
        string name = path.TrimStart('/');
        if (name.Length == 0)
            name = ".";
        byte[] nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        var header = new StringBuilder("070701", 110); // buffer-format.rst: c_magic "070701", then 13 8-digit hex fields
        foreach (long field in new long[]
        {
            inode ?? _nextInode++, mode, 0 /* uid */, 0 /* gid */, links, 0 /* mtime */, content.Length,
            0 /* devmajor */, 0 /* devminor */, rdevMajor, rdevMinor, nameBytes.Length, 0 /* check */,
        })
        {
            header.Append(field.ToString("X8", CultureInfo.InvariantCulture));
        }

        Write(Encoding.ASCII.GetBytes(header.ToString()));
        Write(nameBytes);
        Pad4();
        Write(content);
        Pad4();
    }

    private void Pad4()
    {
        // Header+name and file data each start on a 4-byte boundary.
        int pad = (int)((4 - (_position % 4)) % 4);
        if (pad > 0)
            Write(new byte[pad]);
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        output.Write(bytes);
        _position += bytes.Length;
    }
}
