# Tab completion: each parameter offers what it can actually match, under -Root, and never throws.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')

    function Complete([string] $Line) {
        # A completer that offers nothing lets PowerShell fall back to file names: run from an
        # empty folder so such a fallback shows as a failure rather than as the folder's files.
        Push-Location $script:emptyFolder
        try { @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | ForEach-Object CompletionText) }
        finally { Pop-Location }
    }

    $script:emptyFolder = Join-Path $TestDrive 'empty'
    New-Item -ItemType Directory $emptyFolder | Out-Null

    # A fabricated running system: two loaded modules, a short kallsyms, and one installed kernel
    # whose tree holds a module that is not loaded.
    $script:fake = Join-Path $TestDrive 'fake'
    New-Item -ItemType Directory (Join-Path $fake 'proc'), (Join-Path $fake 'lib/modules/9.9.9-fake') | Out-Null
    Set-Content (Join-Path $fake 'proc/modules') "msdos 20480 0 - Live 0x0000000000000000`nfat 86016 1 msdos, Live 0x0000000000000000"
    Set-Content (Join-Path $fake 'proc/kallsyms') "0000000000000000 T fat_time_unix2fat`t[fat]`n0000000000000000 T fat_dir_empty`t[fat]`n0000000000000000 T schedule"
    Set-Content (Join-Path $fake 'lib/modules/9.9.9-fake/modules.dep') "kernel/fs/msdos/msdos.ko: kernel/fs/fat/fat.ko`nkernel/fs/fat/fat.ko:`nkernel/fs/msdos/mslonely.ko:"
}

Describe '-KernelVersion completion' {
    It 'offers the kernels installed under -Root on every cmdlet that takes it' -ForEach @(
        @{ Line = 'Get-KernelModule -ListAvailable -Root ''{0}'' -KernelVersion ' }
        @{ Line = 'Find-KernelSymbol -ListAvailable -Root ''{0}'' -KernelVersion ' }
        @{ Line = 'Import-KernelModule msdos -Root ''{0}'' -KernelVersion ' }
        @{ Line = 'Update-ModuleDependency -Root ''{0}'' -KernelVersion ' }
    ) {
        Complete ($Line -f $synthetic.Root) | Should -Be @($synthetic.Version)
    }

    It 'completes a version prefix and never offers files of the current folder' {
        $root = Join-Path $TestDrive 'two'
        New-Item -ItemType Directory (Join-Path $root 'lib/modules/6.1.0-1-amd64'), (Join-Path $root 'lib/modules/6.12.1-amd64') | Out-Null
        Set-Content (Join-Path $emptyFolder '6.1-notes.txt') 'a file, not a kernel'
        try {
            Complete "Get-KernelModule -ListAvailable -Root '$root' -KernelVersion 6.1" | Should -Be @('6.1.0-1-amd64', '6.12.1-amd64')
            Complete "Get-KernelModule -ListAvailable -Root '$root' -KernelVersion 6.12" | Should -Be @('6.12.1-amd64')
        }
        finally { Remove-Item (Join-Path $emptyFolder '6.1-notes.txt') }
    }
}

Describe 'Module name completion' {
    It 'Get-KernelModule -Name offers loaded modules only' {
        Complete "Get-KernelModule -Root '$fake' -Name ms" | Should -Be @('msdos')
    }

    It 'Get-KernelModule -ListAvailable -Name offers installed modules' {
        Complete "Get-KernelModule -ListAvailable -Root '$fake' -KernelVersion 9.9.9-fake -Name ms" | Should -Be @('msdos', 'mslonely')
    }

    It 'Import-KernelModule -Name offers installed names and concrete aliases' {
        $r = Complete "Import-KernelModule -Root '$($synthetic.Root)' -WhatIf -Name fs-msd"
        $r | Should -Contain 'fs-msdos'
        Complete "Import-KernelModule -Root '$($synthetic.Root)' -WhatIf -Name msdo" | Should -Contain 'msdos'
    }

    It 'Import-KernelModule -Name never offers alias patterns' {
        $r = @(Complete "Import-KernelModule -Root '$($synthetic.Root)' -WhatIf -Name pci:")
        $r.Count | Should -Be 0
    }

    It 'Remove-KernelModule -Name never throws and offers nothing on a kernel without loaded modules' {
        # The build machine's kernel has no /proc/modules: nothing is loaded, so nothing to offer.
        { Complete 'Remove-KernelModule -Name ms' } | Should -Not -Throw
        @(Complete 'Remove-KernelModule -Name ms').Count | Should -Be 0
    }
}

Describe 'Find-KernelSymbol -Name completion' {
    It 'offers symbols of the running kernel (kallsyms under -Root)' {
        Complete "Find-KernelSymbol -Root '$fake' -Name fat_" | Should -Be @('fat_dir_empty', 'fat_time_unix2fat')
    }

    It 'sees a changed kallsyms once the loaded modules change' {
        Complete "Find-KernelSymbol -Root '$fake' -Name sched" | Should -Be @('schedule')
        Add-Content (Join-Path $fake 'proc/kallsyms') "0000000000000000 T schedule_timeout`t[dummy]"
        Add-Content (Join-Path $fake 'proc/modules') 'dummy 16384 0 - Live 0x0000000000000000'
        Complete "Find-KernelSymbol -Root '$fake' -Name sched" | Should -Be @('schedule', 'schedule_timeout')
    }

    It 'offers the symbols installed modules export with -ListAvailable' {
        Complete "Find-KernelSymbol -ListAvailable -Root '$($synthetic.Root)' -Name fat_time_unix2" | Should -Be @('fat_time_unix2fat')
    }
}
