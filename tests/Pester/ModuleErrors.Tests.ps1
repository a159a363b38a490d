# The write side's ErrorRecords: the category follows the cause (the errno), the ErrorId names the
# cause, and RecommendedAction holds the remedy worded once in Resources/Remedies.resx. The engine's
# exception stays the record's exception, with its facts. No kernel is touched: the exceptions are
# made here, as the engine makes them (the engine's own tests drive them through a fake kernel).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    function New-LoadStep([string] $Module) {
        [LkmPowerShell.Engine.Planner.LoadStep]::new($Module, "/lib/modules/x/$Module.ko", 'Insert', $null, $false, 'Target', $null, $null, $null, $null, $null, $null, $false)
    }
    function New-UnloadStep([string] $Module) {
        [LkmPowerShell.Engine.Planner.UnloadStep]::new($Module, 'Remove', $false, 'Target', $null, $null)
    }
}

Describe 'Load failures by errno' {
    It 'errno <Errno> is <Id>, category <Category>, with a remedy' -TestCases @(
        @{ Errno = 1; Id = 'ModuleLoadNoPrivilege'; Category = 'PermissionDenied'; Remedy = '*sudo*' }
        @{ Errno = 2; Id = 'ModuleLoadUnknownSymbol'; Category = 'ObjectNotFound'; Remedy = '*by name*' }
        @{ Errno = 3; Id = 'ModuleLoadWrongSymbolVersion'; Category = 'InvalidData'; Remedy = '*-SkipVersionCheck*' }
        @{ Errno = 8; Id = 'ModuleLoadInvalidFormat'; Category = 'InvalidData'; Remedy = '*built for the running kernel*' }
        @{ Errno = 12; Id = 'ModuleLoadOutOfMemory'; Category = 'ResourceUnavailable'; Remedy = '*memory*' }
        @{ Errno = 13; Id = 'ModuleLoadAccessDenied'; Category = 'SecurityError'; Remedy = '*sign*' }
        @{ Errno = 16; Id = 'ModuleLoadBusy'; Category = 'ResourceBusy'; Remedy = '*again*' }
        @{ Errno = 17; Id = 'ModuleLoadAlreadyLoaded'; Category = 'ResourceExists'; Remedy = '*Remove-KernelModule dummy*' }
        @{ Errno = 22; Id = 'ModuleLoadInvalidParameters'; Category = 'InvalidArgument'; Remedy = '*parameter*' }
        @{ Errno = 38; Id = 'ModuleLoadNoModuleSupport'; Category = 'NotImplemented'; Remedy = '*CONFIG_MODULES*' }
        @{ Errno = 126; Id = 'ModuleLoadKeyNotTrusted'; Category = 'SecurityError'; Remedy = '*mokutil*' }
        @{ Errno = 129; Id = 'ModuleLoadSignatureRejected'; Category = 'SecurityError'; Remedy = '*sign*' }
        @{ Errno = 5; Id = 'ModuleLoadOther'; Category = 'NotSpecified'; Remedy = '*dmesg*' }
    ) {
        $e = [LkmPowerShell.Engine.Loading.ModuleLoadException]::new((New-LoadStep dummy), $Errno, $null, [string[]]@('dummy: something'))
        $r = [LkmPowerShell.ModuleErrors]::For($e, 'dummy')
        $r.FullyQualifiedErrorId | Should -Be $Id
        $r.CategoryInfo.Category | Should -Be $Category
        $r.Exception | Should -Be $e
        $r.Exception.Errno | Should -Be $Errno
        $r.ErrorDetails.RecommendedAction | Should -BeLike $Remedy
        $r.ErrorDetails.Message | Should -Be $e.Message # the remedy is said once, in RecommendedAction
        $r.TargetObject | Should -Be 'dummy'
    }
}

Describe 'Remove failures by errno' {
    It 'errno <Errno> is <Id>, category <Category>, with a remedy' -TestCases @(
        @{ Errno = 1; Holders = @(); Id = 'ModuleRemoveNoPrivilege'; Category = 'PermissionDenied'; Remedy = '*sudo*' }
        @{ Errno = 11; Holders = @('msdos'); Id = 'ModuleRemoveInUse'; Category = 'ResourceBusy'; Remedy = 'Remove msdos first*' }
        @{ Errno = 11; Holders = @(); Id = 'ModuleRemoveInUse'; Category = 'ResourceBusy'; Remedy = '*-Timeout*' }
        @{ Errno = 16; Holders = @(); Id = 'ModuleRemoveBusy'; Category = 'ResourceBusy'; Remedy = '*again*' }
        @{ Errno = 5; Holders = @(); Id = 'ModuleRemoveOther'; Category = 'NotSpecified'; Remedy = '*dmesg*' }
    ) {
        $e = [LkmPowerShell.Engine.Loading.ModuleRemoveException]::new((New-UnloadStep fat), $Errno, [string[]]$Holders)
        $r = [LkmPowerShell.ModuleErrors]::For($e, 'fat')
        $r.FullyQualifiedErrorId | Should -Be $Id
        $r.CategoryInfo.Category | Should -Be $Category
        $r.ErrorDetails.RecommendedAction | Should -BeLike $Remedy
    }
}

Describe 'Other failures of the write side' {
    It 'no privilege' {
        $r = [LkmPowerShell.ModuleErrors]::For([LkmPowerShell.Engine.Loading.ModulePrivilegeException]::new(), $null)
        $r.FullyQualifiedErrorId | Should -Be 'NoPrivilege'
        $r.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $r.ErrorDetails.Message | Should -BeLike '*root or the CAP_SYS_MODULE capability*'
        $r.ErrorDetails.RecommendedAction | Should -BeLike '*sudo*'
    }

    It 'a failed install command' {
        $r = [LkmPowerShell.ModuleErrors]::For([LkmPowerShell.Engine.Loading.ModuleCommandException]::new('dummy', 'false', 1, $false), 'dummy')
        $r.FullyQualifiedErrorId | Should -Be 'InstallCommandFailed'
        $r.CategoryInfo.Category | Should -Be 'InvalidResult'
        $r.ErrorDetails.RecommendedAction | Should -BeLike '*install command*'
    }

    It 'plan errors keep their ids and get their remedies' {
        $inUse = [LkmPowerShell.Engine.Planner.ModuleInUseException]::new('fat', 1, [string[]]@('msdos'))
        $r = [LkmPowerShell.ModuleErrors]::For($inUse, 'fat')
        $r.FullyQualifiedErrorId | Should -Be 'ModuleInUse'
        $r.CategoryInfo.Category | Should -Be 'ResourceBusy'
        $r.ErrorDetails.RecommendedAction | Should -Be 'Remove msdos first: Remove-KernelModule msdos -RemoveUnusedDependency also removes fat when nothing else needs it.'
        $builtin = [LkmPowerShell.ModuleErrors]::For([LkmPowerShell.Engine.Planner.ModuleBuiltinException]::new('ext4', '6.1'), 'ext4')
        $builtin.ErrorDetails.RecommendedAction | Should -BeLike '*/sys/module*'
    }

    It 'every remedy in the resources is there and reads as a sentence' {
        foreach ($key in 'NoPrivilege', 'KernelModulesUnsupported', 'ModuleNotFound', 'ModuleNotFound.Alias', 'ModuleBuiltin', 'ModuleBlacklisted',
            'InvalidModuleName', 'PersistenceConflict', 'Refused.BuiltForOtherKernel', 'Refused.UnsignedWhileEnforced', 'Refused.MissingSymbols',
            'Refused.MissingSymbolsUnprovided', 'Load.Stopped', 'Remove.CommandFailed') {
            [LkmPowerShell.ModuleErrors]::Remedy($key, [object[]]@('m', 'n')) | Should -Match '^[A-Z].*\.$'
        }
        { [LkmPowerShell.ModuleErrors]::Remedy('NoSuchKey', [object[]]@()) } | Should -Throw '*NoSuchKey*'
    }
}

Describe 'Every error the write cmdlets raise carries its remedy in RecommendedAction' {
    BeforeAll { $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic') }

    It 'every remedy key the cmdlets name is in Remedies.resx' {
        $src = Join-Path (Get-RepositoryRoot) 'src/LkmPowerShell'
        # Remedy("Key", ...) and ModuleErrors.New(exception, "Id", ErrorCategory.X, target, "Key", ...).
        $text = (Get-ChildItem $src -Recurse -Filter *.cs -Exclude *.g.cs | Where-Object FullName -NotMatch '/(obj|bin)/' | Get-Content -Raw) -join "`n"
        $keys = @([regex]::Matches($text, 'Remedy\("(?<key>[^"{}]+)"') + [regex]::Matches($text, 'ErrorCategory\.\w+,\s*[^,;]+,\s*"(?<key>[^"]+)"')) |
            ForEach-Object { $_.Groups['key'].Value } | Sort-Object -Unique
        $keys | Should -Contain 'ModuleDisabled'
        $keys | Should -Contain 'Depmod.AccessDenied'
        foreach ($key in $keys) {
            { [LkmPowerShell.ModuleErrors]::Remedy($key, [object[]]@('m', 'n')) } | Should -Not -Throw -Because "$key is named in the source"
        }
    }

    It '<Id> from <Command>' -ForEach @(
        @{ Id = 'InvalidKernelVersion'; Command = { Update-ModuleDependency -KernelVersion '../x' -Root $synthetic.Root -OutputPath TestDrive:/x -ErrorAction Stop } }
        @{ Id = 'KernelNotInstalled'; Command = { Update-ModuleDependency -KernelVersion 9.9.9 -Root $synthetic.Root -OutputPath TestDrive:/x -ErrorAction Stop } }
        @{ Id = 'KernelNotInstalled'; Command = { Import-KernelModule msdos -Root $synthetic.Root -KernelVersion 9.9.9 -WhatIf -ErrorAction Stop } }
        @{ Id = 'InvalidParameters'; Command = { Import-KernelModule msdos -Parameters 'a="x' -Root $synthetic.Root -KernelVersion $synthetic.Version -WhatIf -ErrorAction Stop } }
        @{ Id = 'InvalidModuleName'; Command = { Disable-KernelModule '../x' -Root TestDrive:/cfg -ErrorAction Stop } }
        @{ Id = 'ModuleNotFound'; Command = { Import-KernelModule no_such_module -Root $synthetic.Root -KernelVersion $synthetic.Version -WhatIf -ErrorAction Stop } }
    ) {
        $err = try { & $Command } catch { $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $err.ErrorDetails.RecommendedAction | Should -Match '^[A-Z].*\.$'
        $err.ErrorDetails.Message | Should -Not -BeLike "*$([WildcardPattern]::Escape($err.ErrorDetails.RecommendedAction))*"
    }
}

Describe 'Get-KernelModule: what is not loaded says so, and what to do, once' {
    BeforeAll {
        # A fabricated running system where fat and msdos are loaded, and a root with no /proc.
        $script:running = Join-Path $TestDrive 'running'
        New-Item -ItemType Directory (Join-Path $running 'proc'), (Join-Path $running 'sys/module/fat'), (Join-Path $running 'sys/module/msdos') | Out-Null
        Set-Content (Join-Path $running 'proc/modules') "msdos 20480 0 - Live 0x0000000000000000`nfat 86016 1 msdos, Live 0x0000000000000000"
        $script:offline = Join-Path $TestDrive 'offline'
        New-Item -ItemType Directory (Join-Path $offline 'etc') | Out-Null
    }

    It 'a name that is not loaded is ModuleNotLoaded: the fact in the message, the way on in RecommendedAction' {
        Get-KernelModule -Root $running nosuchmodule -ErrorVariable errs -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ModuleNotLoaded,LkmPowerShell.Commands.GetKernelModuleCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].ToString() | Should -BeExactly "No loaded module is named 'nosuchmodule'."
        $errs[0].ErrorDetails.RecommendedAction | Should -BeExactly "Get-KernelModule -ListAvailable -Name 'nosuchmodule' shows whether it is installed; Import-KernelModule loads it."
    }

    It 'a root with no /proc/modules is KernelModulesUnsupported, and the remedy points at its installed modules' {
        Get-KernelModule -Root $offline -ErrorVariable errs -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'KernelModulesUnsupported,LkmPowerShell.Commands.GetKernelModuleCommand'
        $errs[0].ErrorDetails.RecommendedAction | Should -BeLike '*-ListAvailable -Root*'
    }
}
