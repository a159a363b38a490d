using System.Text;

namespace LkmPowerShell.Engine.Tests.Initramfs;

/// <summary>Writes cpio newc archives for the tests, hostile ones included (any name, any declared size).</summary>
internal sealed class CpioWriter
{
    private readonly MemoryStream _out = new();
    private uint _inode = 1000;

    public CpioWriter File(string name, byte[] data, uint mode = 0x81A4, uint links = 1, uint? inode = null, uint? declaredSize = null, uint? declaredNameSize = null)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var header = $"070701{inode ?? _inode++:X8}{mode:X8}{0:X8}{0:X8}{links:X8}{0:X8}{declaredSize ?? (uint)data.Length:X8}{0:X8}{0:X8}{0:X8}{0:X8}{declaredNameSize ?? (uint)nameBytes.Length + 1:X8}{0:X8}";
        Write(Encoding.ASCII.GetBytes(header));
        Write(nameBytes);
        Write([0]);
        Pad();
        Write(data);
        Pad();
        return this;
    }

    public CpioWriter Directory(string name) => File(name, [], 0x41ED);

    public CpioWriter Symlink(string name, string target) => File(name, Encoding.UTF8.GetBytes(target), 0xA1FF);

    public byte[] Finish()
    {
        File("TRAILER!!!", []);
        // cpio pads the whole archive to 512 bytes.
        while (_out.Length % 512 != 0) _out.WriteByte(0);
        return _out.ToArray();
    }

    private void Write(byte[] bytes) => _out.Write(bytes);

    private void Pad()
    {
        while (_out.Length % 4 != 0) _out.WriteByte(0);
    }
}
