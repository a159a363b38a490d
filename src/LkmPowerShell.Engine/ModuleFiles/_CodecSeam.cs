// TEMPORARY: replaced by the codec branch (decompression and signature).
namespace LkmPowerShell.Engine.ModuleFiles;

public enum ModuleCompression { None, Gzip, Xz, Zstd }

public sealed partial class ModuleSignature
{
    public IEnumerable<ModInfoEntry> ModinfoFields() => [];
    public static ModuleSignature? TryRead(ReadOnlySpan<byte> data, string path) => null;
}
public static class ModuleCompressionFormat
{
    public static ModuleCompression Detect(ReadOnlySpan<byte> head) => ModuleCompression.None;
    public static byte[] Decompress(ReadOnlySpan<byte> data, ModuleCompression kind, string path, long max) => throw new NotImplementedException();
}
public sealed partial class ModuleSignature
{
    public string SignatureId => ""; public string? Signer => null; public string KeyId => ""; public string HashAlgorithm => "";
    public string FormatSignature() => "";
}
public sealed class NativeLibraryMissingException(string m) : Exception(m);
