using System.Management.Automation;

namespace LkmPowerShell;

/// <summary>
/// Makes a piped file (a FileInfo from Get-ChildItem, live or deserialised) bind to a -LiteralPath
/// whose cmdlet also takes names from the pipeline.
/// </summary>
/// <remarks>
/// Where the name parameter set is the default and its -Name is mandatory, PowerShell binds a
/// FileInfo's Name ("msdos.ko") by property name before it looks at -LiteralPath's PSPath alias.
/// With ValueFromPipeline on -LiteralPath and this transformation, the file binds in the binder's
/// first stage (whole object, no coercion), which runs before binding by property name: the file,
/// recognised by its type, becomes its full path. Strings and other objects pass through unchanged
/// and so still bind to -Name.
/// </remarks>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class FileToLiteralPathAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject p ? p.BaseObject : inputData;
        if (value is FileInfo file)
            return file.FullName;
        if (inputData is PSObject bag && bag.TypeNames.Contains("Deserialized.System.IO.FileInfo")
            && bag.Properties["FullName"]?.Value is string full)
            // A file from another machine (Invoke-Command { Get-Item ... }) names that machine's
            // file: the path is marked so the cmdlet refuses it (RemoteOrigin) instead of acting on
            // this machine's file of the same path.
            return RemoteOrigin.OtherComputer(bag) is { } computer ? RemoteOrigin.Mark(full, computer) : full;
        return inputData;
    }
}
