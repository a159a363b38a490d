@{
    RootModule           = 'bin/LkmPowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b3f8f0e-6c1d-4f37-9a57-0d2f7b1c4a21'
    Author               = 'LkmPowerShell developers'
    CompanyName          = 'LkmPowerShell'
    Copyright            = '(c) LkmPowerShell developers. MIT licence.'
    Description          = 'Manage Linux loadable kernel modules with objects: lsmod, modinfo, symbol lookup (and, in later versions, insmod/modprobe, rmmod and depmod) in the spirit and to the byte of kmod.'
    PowerShellVersion    = '7.6'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('LkmPowerShell.Format.ps1xml')
    TypesToProcess       = @('LkmPowerShell.Types.ps1xml')
    CmdletsToExport      = @('Get-KernelModule', 'Find-KernelSymbol', 'Import-KernelModule', 'Remove-KernelModule', 'Update-ModuleDependency', 'Test-KernelModule')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Linux', 'Kernel', 'KernelModule', 'LKM', 'kmod', 'modprobe', 'lsmod', 'modinfo', 'depmod')
        }
    }
}
