using LkmPowerShell.Engine.ModuleTree;
using Xunit;

namespace LkmPowerShell.Engine.Tests.ModuleTree;

/// <summary>The text readers on small hand-made files: formats, absolute paths, damage.</summary>
public class TextFileTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("lkm-textfiles-");

    public void Dispose() => _folder.Delete(recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_folder.FullName, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void DepLinesResolveRelativePathsAndKeepAbsoluteOnes()
    {
        var path = Write("modules.dep", "kernel/fs/fat/msdos.ko: kernel/fs/fat/fat.ko\n/opt/extra/my-mod.ko.xz: kernel/fs/fat/fat.ko\nkernel/fs/fat/fat.ko:\n");
        var lines = ModulesDepFile.Read(path, "/lib/modules/6.1.0-1-amd64");
        Assert.Equal(3, lines.Count);
        Assert.Equal(new InstalledModule("msdos", "/lib/modules/6.1.0-1-amd64/kernel/fs/fat/msdos.ko", "kernel/fs/fat/msdos.ko"), lines[0].Module);
        Assert.Equal(new InstalledModule("my_mod", "/opt/extra/my-mod.ko.xz", "/opt/extra/my-mod.ko.xz"), lines[1].Module);
        Assert.Equal("fat", lines[0].Dependencies.Single().Name);
        Assert.Empty(lines[2].Dependencies);
        var error = Assert.Throws<ModuleFormatException>(() => ModulesDepFile.Read(Write("bad.dep", "ok.ko:\nno colon here\n"), "/m"));
        Assert.Equal(7, error.Offset);
    }

    [Fact]
    public void OverlongLinesAreRejected()
    {
        var path = Write("modules.alias", "alias " + new string('x', 70000) + " m\n");
        Assert.Contains("longer than", Assert.Throws<ModuleFormatException>(() => ModulesAliasFile.Read(path)).Message);
    }

    [Fact]
    public void SmallFormatsParse()
    {
        Assert.Equal([new ModuleAlias("fs-msdos", "msdos")], ModulesAliasFile.Read(Write("a", "# header\nalias fs-msdos msdos\n\n")));
        Assert.Throws<ModuleFormatException>(() => ModulesAliasFile.Read(Write("a2", "alias only-two\n")));
        Assert.Equal([new SymbolsFileEntry("fat_build_inode", "fat")], ModulesSymbolsFile.Read(Write("s", "# h\nalias symbol:fat_build_inode fat\n")));
        var softdep = ModulesSoftdepFile.Read(Write("sd", "softdep snd-x pre: a b post: c\n")).Single();
        Assert.Equal("snd_x", softdep.Module);
        Assert.Equal(["a", "b"], softdep.Pre);
        Assert.Equal(["c"], softdep.Post);
        Assert.Equal([new ModuleDeviceNode("loop", "loop-control", 'c', 10, 237)], ModulesDevnameFile.Read(Write("d", "# h\nloop loop-control c10:237\n")));
        Assert.Throws<ModuleFormatException>(() => ModulesDevnameFile.Read(Write("d2", "loop loop-control x10:237\n")));
        Assert.Equal([new BuiltinModule("amd_uncore", "kernel/arch/x86/events/amd/amd-uncore.ko")], ModulesBuiltinFile.Read(Write("b", "kernel/arch/x86/events/amd/amd-uncore.ko\n\n")));
        Assert.Equal(["kernel/a.ko", "kernel/b.ko"], ModulesOrderFile.Read(Write("o", "kernel/a.ko\nkernel/b.ko\n")));
        var modinfo = ModulesBuiltinModinfoFile.Read(Write("mi", "ext4.alias=fs-ext4\0ext4.description=The Fourth Extended Filesystem\0\0x.parm=a:b=c\0"));
        Assert.Equal([new("ext4", "alias", "fs-ext4"), new("ext4", "description", "The Fourth Extended Filesystem"), new BuiltinModinfoField("x", "parm", "a:b=c")], modinfo);
        Assert.Throws<ModuleFormatException>(() => ModulesBuiltinModinfoFile.Read(Write("mi2", "noequals\0")));
    }
}
