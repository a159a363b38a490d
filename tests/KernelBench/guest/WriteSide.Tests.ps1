# Import-KernelModule and Remove-KernelModule inside a real Debian kernel (the kernel bench), on
# both the plain and the xz kernel, step by step beside what kmod's own tools do.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../Pester/TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    Import-Module (Join-Path $PSScriptRoot 'LkmBench.Guest.psm1') -Force
    function Test-Loaded([string] $Name) { [bool](Select-String -Path /proc/modules -Pattern "^$Name " -Quiet) }
    function Get-LoadedNames { (Get-Content /proc/modules | ForEach-Object { ($_ -split ' ')[0] }) | Sort-Object }
}

Describe 'The classic story: msdos and fat' -Tag 'RealKernel' {
    BeforeAll {
        if (-not (Test-Path /proc/modules)) { throw 'These tests need a real kernel: run them through tests/KernelBench (build.ps1 KernelTest).' }
        modprobe -r msdos 2>$null
        $script:msdosPath = (Get-KernelModule -ListAvailable msdos).Path
        $script:before = Get-LoadedNames
    }
    AfterAll { modprobe -r msdos 2>$null }

    It 'importing msdos by path without fat fails, naming fat''s symbols and fat.ko, and loads nothing (kmod''s insmod fails too)' {
        Import-KernelModule -Path $msdosPath -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ModuleWouldBeRefused,LkmPowerShell.Commands.ImportKernelModuleCommand'
        $errs[0].Exception.Message | Should -BeLike '*msdos needs * symbols that no loaded module exports, e.g. fat_*exported by fat.ko (not loaded)*'
        Get-LoadedNames | Should -Be $before
        insmod $msdosPath 2>$null
        $LASTEXITCODE | Should -Not -Be 0
        Test-Loaded msdos | Should -BeFalse
    }

    It 'importing msdos by name loads fat, then msdos, and -PassThru says it changed something' {
        $out = Import-KernelModule msdos -PassThru -Verbose 4>&1
        @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join "`n" | Should -Match '(?s)fat.*msdos'
        $loaded = @($out | Where-Object { $_ -is [LkmPowerShell.LoadedKernelModule] })
        $loaded.Name | Should -Be 'msdos'
        $loaded.Changed | Should -BeTrue
        Test-Loaded fat | Should -BeTrue
        Test-Loaded msdos | Should -BeTrue
    }

    It 'is idempotent: importing msdos again changes nothing, and -PassThru says so' {
        $before = Get-Content /proc/modules | ForEach-Object { ($_ -split ' ')[0..2] -join ' ' }
        $again = Import-KernelModule msdos -PassThru
        $again.Name | Should -Be 'msdos'
        $again.Changed | Should -BeFalse
        Get-Content /proc/modules | ForEach-Object { ($_ -split ' ')[0..2] -join ' ' } | Should -Be $before
    }

    It 'Get-KernelModule fat shows it used by msdos' {
        (Get-KernelModule fat).UsedBy | Should -Be @('msdos')
    }

    It 'removing fat is refused, naming msdos (as rmmod refuses it)' {
        Remove-KernelModule fat -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].Exception.Message | Should -BeLike '*fat*msdos*'
        Test-Loaded fat | Should -BeTrue
        rmmod fat 2>$null
        $LASTEXITCODE | Should -Not -Be 0
    }

    It 'removing msdos with its unused dependencies leaves neither' {
        (Remove-KernelModule msdos -RemoveUnusedDependency -PassThru).Changed | Should -BeTrue
        Test-Loaded msdos | Should -BeFalse
        Test-Loaded fat | Should -BeFalse
        Get-LoadedNames | Should -Be $before
    }

    It 'removing a module that is not loaded is success, and -PassThru says nothing changed' {
        $r = Remove-KernelModule msdos -PassThru -ErrorAction Stop
        $r.State | Should -Be 'NotLoaded'
        $r.Changed | Should -BeFalse
    }
}

Describe 'Parameters, rollback, decompression, privileges and repetition' -Tag 'RealKernel' {
    BeforeAll {
        if (-not (Test-Path /proc/modules)) { throw 'These tests need a real kernel: run them through tests/KernelBench (build.ps1 KernelTest).' }
        $script:isXz = (Test-Path /sys/module/compression)
    }

    It 'dummy with numdummies=3 gives three dummy interfaces' {
        Import-KernelModule dummy -Parameters @{ numdummies = 3 }
        try {
            Test-Path /sys/class/net/dummy0, /sys/class/net/dummy1, /sys/class/net/dummy2 | Should -Be @($true, $true, $true)
            Test-Path /sys/class/net/dummy3 | Should -BeFalse
        } finally { Remove-KernelModule dummy }
        Test-Loaded dummy | Should -BeFalse
    }

    It 'a parameter string reaches the kernel, and Get-KernelModule shows it' {
        Import-KernelModule brd -Parameters 'rd_nr=2 rd_size=1024'
        try {
            (Get-KernelModule brd).Parameters['rd_nr'] | Should -Be '2'
            Import-KernelModule brd -Parameters 'rd_nr=5' -WarningVariable w -WarningAction SilentlyContinue
            "$w" | Should -BeLike '*already loaded with rd_nr=2*'
        } finally { Remove-KernelModule brd }
    }

    It 'Remove -Timeout removes a module once the process using it lets go (modprobe -r --wait); without it the removal is refused at once' {
        Import-KernelModule brd -Parameters 'rd_nr=1 rd_size=1024'
        try {
            # A process holds /dev/ram0 open for a few seconds: brd's use count is 1 until it exits.
            # (ProcessStartInfo.ArgumentList: Start-Process would join the arguments with spaces.)
            $start = [Diagnostics.ProcessStartInfo]::new('/bin/sh')
            foreach ($a in '-c', 'while [ ! -b /dev/ram0 ]; do sleep 0.1; done; exec 3</dev/ram0; sleep 6') { $start.ArgumentList.Add($a) }
            $holder = [Diagnostics.Process]::Start($start)
            $until = [DateTime]::UtcNow.AddSeconds(20)
            while ((Get-Content /sys/module/brd/refcnt) -eq '0' -and [DateTime]::UtcNow -lt $until) { Start-Sleep -Milliseconds 50 }
            Get-Content /sys/module/brd/refcnt | Should -Be '1'
            $err = try { Remove-KernelModule brd -ErrorAction Stop } catch { $_ }
            $err.FullyQualifiedErrorId | Should -Be 'ModuleInUse,LkmPowerShell.Commands.RemoveKernelModuleCommand'
            $err.ErrorDetails.RecommendedAction | Should -BeLike '*-Timeout*'
            $holder.HasExited | Should -BeFalse   # the refusal came while it was still held
            $r = Remove-KernelModule brd -Timeout 60 -PassThru
            $r.Changed | Should -BeTrue
            $holder.HasExited | Should -BeTrue
            Test-Loaded brd | Should -BeFalse
        } finally { if (Test-Loaded brd) { Remove-KernelModule brd -Timeout 60 } }
    }

    It 'a chain whose last step fails is rolled back: no new module stays loaded' {
        $before = Get-LoadedNames
        Import-KernelModule snd-dummy -Parameters 'pcm_devs=notanumber' -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].Exception.Message | Should -BeLike '*Loading snd_dummy failed*Invalid parameters*Rolled back*'
        Get-LoadedNames | Should -Be $before
    }

    It 'loads a compressed module through the kernel where it can, and through user space when told' {
        $v = Import-KernelModule msdos -Verbose 4>&1 | Out-String
        try {
            if ($isXz) { $v | Should -Match 'FinitModuleCompressed\(msdos\) = 0' } else { $v | Should -Match 'FinitModule\(msdos\) = 0' }
        } finally { Remove-KernelModule msdos -RemoveUnusedDependency }
        $v = Import-KernelModule msdos -NoKernelDecompression -Verbose 4>&1 | Out-String
        try {
            if ($isXz) { $v | Should -Match 'InitModule\(msdos\) = 0' } else { $v | Should -Match 'FinitModule\(msdos\) = 0' }
            Test-Loaded msdos | Should -BeTrue
        } finally { Remove-KernelModule msdos -RemoveUnusedDependency }
    }

    It 'without CAP_SYS_MODULE gives the privilege error and changes nothing' {
        $before = Get-LoadedNames
        $repo = Get-RepositoryRoot
        $file = '/tmp/lkm-unprivileged.ps1'
        Set-Content $file "Import-Module '$repo/LkmPowerShell.psd1'; try { Import-KernelModule dummy -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.Exception.Message }"
        chmod 644 $file
        $r = Invoke-LkmBenchUnprivileged "DOTNET_ROOT='$env:DOTNET_ROOT' DOTNET_CLI_TELEMETRY_OPTOUT=1 '$env:DOTNET_ROOT/dotnet' '$env:LKMBENCH_PWSH' -NoProfile -NonInteractive -File $file"
        ($r.Output -join "`n") | Should -BeLike '*NoPrivilege*root or the CAP_SYS_MODULE capability*'
        Get-LoadedNames | Should -Be $before
    }

    # The 280 syscall cycles run on the 6.1 kernel only: they are the same two syscalls on both
    # kernels, and the 6.12 kernel's own path (in-kernel xz decompression) is proven above.
    It '<Count> load/remove cycles (20 through the cmdlets<Engine>) leave /proc/modules and use counts as they were' -TestCases @(
        if ($env:LKMBENCH_KERNEL -eq 'xz') { @{ Count = 20; Engine = ''; Pairs = 0 } }
        else { @{ Count = 300; Engine = ', 280 through the engine''s syscall path'; Pairs = 140 } }
    ) {
        param($Count, $Engine, $Pairs)
        $before = Get-Content /proc/modules | ForEach-Object { ($_ -split ' ')[0..3] -join ' ' }
        for ($i = 0; $i -lt 20; $i++) {
            Import-KernelModule msdos -ErrorAction Stop
            Remove-KernelModule msdos -RemoveUnusedDependency -ErrorAction Stop
        }
        # The cmdlets re-plan on every call, which under emulation costs far more than the syscalls;
        # the engine's loader is what they call, so the rest of the cycles go straight to it.
        if ($Pairs) {
            $loader = [LkmPowerShell.Engine.Loading.ModuleLoader]::new([LkmPowerShell.Engine.Kernel.RunningKernel]::Host)
            $fat = (Get-KernelModule -ListAvailable fat).Path
            $msdos = (Get-KernelModule -ListAvailable msdos).Path
            $options = [LkmPowerShell.Engine.Loading.InsertOptions]::new()
        }
        for ($i = 0; $i -lt $Pairs; $i++) {
            $loader.Insert($fat, $options).Errno | Should -Be 0
            $loader.Insert($msdos, $options).Errno | Should -Be 0
            $loader.Remove('msdos', $false) | Should -Be 0
            $loader.Remove('fat', $false) | Should -Be 0
        }
        Get-Content /proc/modules | ForEach-Object { ($_ -split ' ')[0..3] -join ' ' } | Should -Be $before
    }

    It '-Persist writes the boot-time files and Remove -Persist deletes them' {
        (Import-KernelModule dummy -Parameters @{ numdummies = 2 } -Persist -PassThru).Changed | Should -BeTrue
        try {
            Get-Content /etc/modules-load.d/dummy.conf | Should -Contain 'dummy'
            (Get-Content /etc/modprobe.d/dummy.conf) -join "`n" | Should -BeLike '*options dummy numdummies=2*'
            (Import-KernelModule dummy -Parameters @{ numdummies = 2 } -Persist -PassThru).Changed | Should -BeFalse
        } finally { Remove-KernelModule dummy -Persist }
        Test-Path /etc/modules-load.d/dummy.conf, /etc/modprobe.d/dummy.conf | Should -Be @($false, $false)
    }
}
