# Inside a real Debian kernel booted by the kernel bench (tests/KernelBench): the cmdlets against
# /proc/modules, lsmod and /sys/module, with modules loaded by kmod's own tools. Tagged
# RealKernel: the host run excludes them, and the bench runs only them. Run on a kernel without
# module support, they fail loudly rather than skip.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../Pester/TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    function Get-ProcModules {
        foreach ($line in Get-Content /proc/modules) {
            $f = $line -split ' '
            [pscustomobject]@{ Name = $f[0]; Size = [long]$f[1]; Refcnt = $f[2]; Holders = @($f[3].TrimEnd(',') -split ',' | Where-Object { $_ -and $_ -ne '-' }); State = $f[4]; Address = $f[5] }
        }
    }
}

Describe 'Get-KernelModule in a real kernel' -Tag 'RealKernel' {
    BeforeAll {
        if (-not (Test-Path /proc/modules)) { throw 'RealKernel tests need a kernel with module support: run them through tests/KernelBench (build.ps1 KernelTest).' }
        $script:release = (uname -r)
        modprobe msdos
        modprobe dummy numdummies=3
        if ($LASTEXITCODE -ne 0) { throw "kmod's modprobe failed in the guest ($LASTEXITCODE)" }
    }
    AfterAll {
        modprobe -r msdos dummy 2>$null
    }

    It 'lists exactly what /proc/modules lists, in its order' {
        (Get-KernelModule).Name | Should -Be (Get-ProcModules).Name
    }

    It 'agrees with /proc/modules and /sys/module on every module' {
        $mods = Get-KernelModule
        $proc = @{}; Get-ProcModules | ForEach-Object { $proc[$_.Name] = $_ }
        foreach ($m in $mods) {
            $p = $proc[$m.Name]
            $sys = "/sys/module/$($m.Name)"
            $m.ReferenceCount | Should -Be ([int](Get-Content "$sys/refcnt")) -Because $m.Name
            $m.Size | Should -Be ([long](Get-Content "$sys/coresize")) -Because $m.Name
            @($m.UsedBy | Sort-Object) | Should -Be @($p.Holders | Sort-Object) -Because $m.Name
            $m.State | Should -Be $p.State -Because $m.Name
            $m.Address | Should -Be $p.Address -Because $m.Name
            if (Test-Path "$sys/srcversion") { $m.SourceVersion | Should -Be (Get-Content "$sys/srcversion") }
            if (Test-Path "$sys/parameters") {
                foreach ($param in Get-ChildItem "$sys/parameters") {
                    $value = try { (Get-Content -Raw $param.FullName -ErrorAction Stop).TrimEnd("`n") } catch { $null }
                    if ($null -ne $value) { $m.Parameters[$param.Name] | Should -Be $value -Because "$($m.Name).$($param.Name)" }
                }
            }
        }
    }

    It 'agrees with lsmod (size, use count, holders)' {
        $lsmod = lsmod | Select-Object -Skip 1 | ForEach-Object {
            $f = $_ -split '\s+'
            [pscustomobject]@{ Name = $f[0]; Size = [long]$f[1]; Count = [int]$f[2]; By = if ($f.Count -gt 3) { $f[3] } else { '' } }
        }
        $ours = @{}; Get-KernelModule | ForEach-Object { $ours[$_.Name] = $_ }
        foreach ($l in $lsmod) {
            $m = $ours[$l.Name]
            $m | Should -Not -BeNullOrEmpty -Because $l.Name
            $m.Size | Should -Be $l.Size -Because $l.Name
            $m.ReferenceCount | Should -Be $l.Count -Because $l.Name
            (@($m.UsedBy | Sort-Object) -join ',') | Should -Be (@($l.By -split ',' | Where-Object { $_ } | Sort-Object) -join ',') -Because $l.Name
        }
        $ours.Count | Should -Be @($lsmod).Count
    }

    It 'shows fat used by msdos after modprobe msdos' {
        $fat = Get-KernelModule fat
        $fat.UsedBy | Should -Contain 'msdos'
        $fat.ReferenceCount | Should -BeGreaterOrEqual 1
        (Get-KernelModule msdos).State | Should -Be 'Live'
    }

    It 'draws the holders graph of the loaded msdos and fat (Get-KernelModuleDependency -Loaded)' {
        $rows = @(Get-KernelModuleDependency msdos -Loaded)
        @($rows.Name) | Should -Be @('msdos', 'fat')
        $rows[1].Reason | Should -Be 'held by msdos (/sys/module/fat/holders)'
        @(Get-KernelModuleDependency fat -Loaded -Reverse | Where-Object Role -EQ Holder).Name | Should -Contain 'msdos'
        $mermaid = $rows | ConvertTo-KernelModuleGraph -Format Mermaid
        Write-Host "guest: holders graph of msdos on $(uname -r):`n$mermaid"
        $mermaid | Should -Match 'm_msdos ==>\|"holder"\| m_fat'
    }

    It 'shows dummy loaded with numdummies=3 (three interfaces), and brd''s readable parameters' {
        # dummy declares numdummies with permissions 0: the kernel publishes no value for it.
        Get-KernelModule dummy | Should -Not -BeNullOrEmpty
        Test-Path /sys/class/net/dummy2 | Should -BeTrue
        modprobe brd rd_nr=2 rd_size=1024
        try {
            $brd = Get-KernelModule brd
            $brd.Parameters['rd_nr'] | Should -Be '2'
            $brd.Parameters['rd_size'] | Should -Be '1024'
        } finally { modprobe -r brd }
    }

    It 'a module that is not loaded is a ModuleNotLoaded error' {
        Get-KernelModule no_such_module -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ModuleNotLoaded,*'
    }

    It '-IncludeBuiltin adds built-in modules' {
        $b = Get-KernelModule -IncludeBuiltin | Where-Object IsBuiltin
        @($b).Count | Should -BeGreaterThan 10
        $b[0].State | Should -Be 'Builtin'
    }

    It 'Find-KernelSymbol finds fat_time_unix2fat owned by fat, and the kernel''s own symbols' {
        $s = Find-KernelSymbol fat_time_unix2fat
        $s.Module | Should -Contain 'fat'
        (Find-KernelSymbol schedule | Select-Object -First 1).Module | Should -BeNullOrEmpty
    }

    It 'Find-KernelSymbol -Undefined sees fat loaded and the kernel as providers' {
        $msdos = (Get-KernelModule -ListAvailable msdos).Path
        $needs = Find-KernelSymbol -Undefined -LiteralPath $msdos
        ($needs | Where-Object Name -EQ 'fat_time_unix2fat').ProviderKind | Should -Be 'LoadedModule'
        ($needs | Where-Object Name -EQ 'register_filesystem').ProviderKind | Should -Be 'Kernel'
        @($needs | Where-Object ProviderKind -EQ 'None').Name | Should -BeNullOrEmpty
    }

    It '-ListAvailable defaults to the running kernel''s /lib/modules' {
        (Get-KernelModule -ListAvailable msdos).Path | Should -BeLike "/lib/modules/$release/*"
    }

    It 'a module built into the running kernel is shown as kmod''s modinfo shows it' {
        # iosf_mbi is built into both Debian kernels (modules.builtin) and is no installed module's alias.
        $m = Get-KernelModule -ListAvailable iosf_mbi
        $m.IsBuiltin | Should -BeTrue
        $m.ToModinfoText() | Should -BeExactly (((modinfo iosf_mbi) -join "`n") + "`n")
    }
}
