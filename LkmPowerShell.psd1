@{
    RootModule           = 'bin/LkmPowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b3f8f0e-6c1d-4f37-9a57-0d2f7b1c4a21'
    Author               = 'LkmPowerShell developers'
    CompanyName          = 'LkmPowerShell'
    Copyright            = '(c) LkmPowerShell developers. MIT licence.'
    Description          = 'Manage Linux loadable kernel modules with objects: lsmod and modinfo (Get-KernelModule), modprobe and insmod with rollback (Import-KernelModule), modprobe -r and rmmod (Remove-KernelModule), depmod with byte-identical index files (Update-ModuleDependency) and symbol lookup (Find-KernelSymbol), the effective modprobe configuration (Get-KernelModuleConfiguration, modprobe -c), CIS-style disabling (Disable-/Enable-KernelModule), boot-time modules (Get-KernelModuleBootEntry), runtime parameters (Set-KernelModuleParameter) and a security audit that finds unsigned, out-of-tree and hidden modules (Test-KernelModule), matched against kmod on real Debian kernels, with -Root for offline images.'
    PowerShellVersion    = '7.6'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('LkmPowerShell.Format.ps1xml')
    TypesToProcess       = @('LkmPowerShell.Types.ps1xml')
    CmdletsToExport      = @('Get-KernelModule', 'Find-KernelSymbol', 'Import-KernelModule', 'Remove-KernelModule', 'Update-ModuleDependency',
                             'Get-KernelModuleConfiguration', 'Disable-KernelModule', 'Enable-KernelModule', 'Get-KernelModuleBootEntry', 'Set-KernelModuleParameter', 'Test-KernelModule',
                             'Get-KernelModuleDependency', 'ConvertTo-KernelModuleGraph')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            LicenseUri   = 'https://opensource.org/license/mit'
            ReleaseNotes = 'Tab completion offers what each parameter can match: loaded modules for Get-KernelModule and Remove-KernelModule, installed names and aliases for Import-KernelModule, symbols for Find-KernelSymbol -Name, installed kernels for -KernelVersion. New: Get-KernelModuleConfiguration, Disable-KernelModule, Enable-KernelModule, Get-KernelModuleBootEntry, Set-KernelModuleParameter. Test-KernelModule audits the loaded modules (MITRE ATT&CK T1547.006): signatures, taint, origin, and modules hiding from lsmod.'
            Tags       = @('Linux', 'Kernel', 'KernelModule', 'LKM', 'kmod', 'modprobe', 'lsmod', 'modinfo', 'depmod', 'Security', 'Rootkit')
        }
    }
}
