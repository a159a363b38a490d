using LkmPowerShell.Fuzz;
using SharpFuzz;

// Usage: LkmPowerShell.Fuzz <target>            under afl-fuzz (persistent mode, input on stdin)
//        LkmPowerShell.Fuzz <target> <file>...  replays inputs once each (a crash prints its stack)
//        LkmPowerShell.Fuzz --seeds depmod-cache <folder> <modules directory>
//                                               writes seeds made by a real depmod run (Invoke-Fuzz.ps1)
//        LkmPowerShell.Fuzz --judge modprobe-c <seeds> <mutants> <out folder> [random seed]
//                                               compares mutants' -AsText bytes with kmod's modprobe -c
if (args.Length == 4 && args[0] == "--seeds" && args[1] == "depmod-cache")
{
    Seeds.DepmodCache(args[2], args[3]);
    return 0;
}
if (args.Length is 5 or 6 && args[0] == "--judge" && args[1] == "modprobe-c")
    return ModprobeJudge.Run(args[2], int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture), args[4],
        args.Length == 6 ? int.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture) : 1);
if (args.Length == 0 || !Targets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: LkmPowerShell.Fuzz <{string.Join('|', Targets.All.Keys)}> [input files]");
    return 2;
}
if (args.Length > 1)
{
    foreach (var file in args.Skip(1))
        target(File.ReadAllBytes(file));
    Console.WriteLine($"{args.Length - 1} input(s) replayed without a finding");
    return 0;
}
Fuzzer.Run(stream =>
{
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    target(copy.ToArray());
});
return 0;
