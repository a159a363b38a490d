# -Path expands wildcards as every provider cmdlet does, -LiteralPath never does; a string that is
# plainly a module file, given where a name is expected, is read as the file (Get-KernelModule) or
# refused with the exact command to type. And a misspelt name gets "Did you mean".

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $script:synthetic = New-SyntheticModuleTree (Join-Path $TestDrive 'synthetic')
    $fatDir = Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat'
    # 'm[1].ko' is msdos; 'm1.ko' is fat, which the pattern m[1].ko matches.
    $script:dir = Join-Path $TestDrive 'files'
    New-Item -ItemType Directory $dir | Out-Null
    [System.IO.File]::Copy((Join-Path $fatDir 'msdos.ko'), (Join-Path $dir 'm[1].ko'))
    [System.IO.File]::Copy((Join-Path $fatDir 'fat.ko'), (Join-Path $dir 'm1.ko'))
    $script:bracket = Join-Path $dir 'm[1].ko'
}

Describe '-Path takes wildcards, -LiteralPath does not' {
    It 'Get-KernelModule -Path m[1].ko is a pattern (it matches m1.ko)' {
        # Name is the file's (m1); which module it is shows in what it needs and exports.
        $m = Get-KernelModule -Path $bracket -ErrorAction Stop
        Split-Path -Leaf $m.Path | Should -Be 'm1.ko'
        (Get-KernelModule -Path (Join-Path $dir 'm*.ko') -ErrorAction Stop).Path | Split-Path -Leaf | Sort-Object | Should -Be (@('m1.ko', 'm[1].ko') | Sort-Object)
    }

    It 'Get-KernelModule -LiteralPath m[1].ko is that file (msdos, which depends on fat)' {
        (Get-KernelModule -LiteralPath $bracket -ErrorAction Stop).Depends | Should -Be 'fat'
        Get-KernelModule -LiteralPath (Join-Path $dir 'm*.ko') -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ModuleFileNotFound,*'
    }

    It 'Find-KernelSymbol -Path m[1].ko is a pattern, -LiteralPath the file' {
        (Find-KernelSymbol -Path $bracket -ErrorAction Stop).Name | Should -Contain 'fat_time_unix2fat'
        $needs = Find-KernelSymbol -Undefined -LiteralPath $bracket -Root $synthetic.Root -ErrorAction Stop -WarningAction SilentlyContinue
        $needs.Name | Should -Contain 'fat_time_unix2fat'   # what msdos needs from fat
        Find-KernelSymbol -LiteralPath (Join-Path $dir 'm*.ko') -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ModuleFileNotFound,*'
    }

    It 'a -Path pattern that matches nothing says so' {
        Get-KernelModule -Path (Join-Path $dir 'nothing*.ko') -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ModuleFileNotFound,*'
        "$e" | Should -BeLike '*no file matches this pattern*'
    }
}

Describe 'A name that is plainly a module file' {
    It 'Get-KernelModule reads it as a file' {
        Push-Location $dir
        try { (Get-KernelModule ./m1.ko -ErrorAction Stop).Path | Should -Be (Join-Path $dir 'm1.ko') }
        finally { Pop-Location }
    }

    It '<Command> refuses ./msdos.ko and says to type "<Typed>"' -ForEach @(
        @{ Command = 'Remove-KernelModule'; Typed = 'Remove-KernelModule msdos' }
        @{ Command = 'Disable-KernelModule'; Typed = 'Disable-KernelModule msdos' }
        @{ Command = 'Enable-KernelModule'; Typed = 'Enable-KernelModule msdos' }
        @{ Command = 'Get-KernelModuleConfiguration'; Typed = 'Get-KernelModuleConfiguration msdos' }
        @{ Command = 'Get-KernelModuleBootEntry'; Typed = 'Get-KernelModuleBootEntry msdos' }
        @{ Command = 'Test-KernelModule'; Typed = 'Test-KernelModule msdos' }
        @{ Command = 'Import-KernelModule'; Typed = "Import-KernelModule -LiteralPath './msdos.ko'" }
        @{ Command = 'Find-KernelSymbol'; Typed = "Find-KernelSymbol -Path './msdos.ko'" }
        @{ Command = 'Get-KernelModuleDependency'; Typed = "Get-KernelModuleDependency -LiteralPath './msdos.ko'" }
    ) {
        # Refused while binding, before anything runs: no root, no kernel needed.
        { & $Command ./msdos.ko -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        try { & $Command ./msdos.ko -ErrorAction Stop } catch { $_.Exception.Message | Should -BeLike "*'./msdos.ko' is a module file, not a * name. Type: *$Typed*" }
    }

    It 'Set-KernelModuleParameter refuses msdos.ko.xz the same way' {
        { Set-KernelModuleParameter msdos.ko.xz debug 1 -ErrorAction Stop } | Should -Throw -ExpectedMessage '*Set-KernelModuleParameter msdos (it takes module names)*'
    }
}

Describe 'Did you mean' {
    It 'Get-KernelModule -ListAvailable msdso suggests msdos' {
        Get-KernelModule -ListAvailable -Root $synthetic.Root msdso -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ModuleNotInstalled,*'
        $e[0].ErrorDetails.RecommendedAction | Should -BeLike 'Did you mean msdos*'
        $e[0].ErrorDetails.Message | Should -BeLike "No module named 'msdso' is installed*"
        $e[0].ErrorDetails.Message | Should -Not -BeLike '*Did you mean*'
    }

    It 'Import-KernelModule msdso suggests msdos before its other remedy' {
        Import-KernelModule msdso -Root $synthetic.Root -WhatIf -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ModuleNotFound,*'
        $e[0].ErrorDetails.RecommendedAction | Should -BeLike 'Did you mean msdos*? Check the name with Get-KernelModule -ListAvailable*'
    }

    It 'Get-KernelModule suggests loaded modules for a misspelt loaded one' {
        $fake = Join-Path $TestDrive 'loaded'
        New-Item -ItemType Directory (Join-Path $fake 'proc') | Out-Null
        Set-Content (Join-Path $fake 'proc/modules') "msdos 20480 0 - Live 0x0000000000000000`nfat 86016 1 msdos, Live 0x0000000000000000"
        Get-KernelModule -Root $fake mdsos -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].ErrorDetails.RecommendedAction | Should -Be "Did you mean msdos? Get-KernelModule -ListAvailable -Name 'mdsos' shows whether it is installed; Import-KernelModule loads it."
    }

    It 'Find-KernelSymbol suggests exported symbols for a misspelt one' {
        Find-KernelSymbol -ListAvailable -Root $synthetic.Root fat_time_unix2fta -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'SymbolNotFound,*'
        $e[0].ErrorDetails.RecommendedAction | Should -Be 'Did you mean fat_time_unix2fat?'
    }

    It 'says nothing when no name is near' {
        Get-KernelModule -ListAvailable -Root $synthetic.Root qqqqqqqqqqqqqqqqqqqqqq -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ModuleNotInstalled,*'
        "$($e[0].ErrorDetails.RecommendedAction)" | Should -Not -BeLike '*Did you mean*'
    }
}
