# Every example in the help (docs/en-US/*.md) and in the README's "Using it" block runs as written
# against Debian's trees, offline. The examples are read from the documents themselves, so a new or
# changed example is run without touching this file.
#
# "As written", with one fixed set of stand-ins, the same for every example:
# - each cmdlet of the module gets -Root $sys by default ($PSDefaultParameterValues): $sys is a
#   system made of files (Debian's 6.1 kernel "running" with a few modules loaded, its 6.1 and 6.12
#   module trees installed, /proc and /sys files); /mnt/image (the examples' offline image), and the
#   host paths /lib/modules/ and /boot/ that some examples list, are $sys's;
# - the cmdlets that change something get -WhatIf by default, so they plan instead of act;
# - the current folder holds the module files the examples name (msdos.ko, fat.ko, dummy.ko, brd.ko;
#   mydriver.ko and vendor.ko, copies of msdos.ko and brd.ko standing for the reader's own modules);
#   $(uname -r) is 6.1's;
# - a kernel release the example names is the pinned fixture of the same series (6.1.0-NN-amd64 is the
#   pinned 6.1, 6.12.NNN+deb12-amd64 the pinned 6.12): examples may show any realistic release.
# An example that cannot mean anything offline is listed in $NotRunOffline with the reason; it is
# still parsed, and every command and parameter it uses must exist.

BeforeDiscovery {
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:examples = @()
    foreach ($file in Get-ChildItem (Join-Path $repo 'docs/en-US') -Filter '*.md') {
        $title = $null; $code = $null
        foreach ($line in Get-Content $file.FullName) {
            if ($null -ne $code) {
                if ($line -eq '```') { $examples += @{ Id = "$($file.BaseName): $title"; Code = ($code -join "`n") }; $code = $null }
                else { $code += $line }
                continue
            }
            if ($line -match '^### (Example \d+: .+)$') { $title = $Matches[1] }
            elseif ($line -eq '```powershell' -and $title) { $code = @() }
        }
    }
    # The README's "Using it" block: one example a line (the comment says what it shows).
    $inBlock = $false; $section = $null
    foreach ($line in Get-Content (Join-Path $repo 'README.md')) {
        if ($line -match '^## (.+)$') { $section = $Matches[1]; continue }
        if ($section -ne 'Using it') { continue }
        if ($line -eq '```powershell') { $inBlock = $true; continue }
        if ($line -eq '```') { $inBlock = $false; continue }
        if ($inBlock -and $line.Trim()) {
            $command = ($line -replace '\s+#.*$', '').Trim()
            $examples += @{ Id = "README: $command"; Code = $command }
        }
    }

    # Examples that cannot run offline, each with the reason. Nothing else is left out.
    $script:NotRunOffline = @{
        'README: dotnet tool restore'                      = 'a shell command that restores the tools, not an example of the module'
        'README: dotnet pwsh'                              = 'a shell command that starts PowerShell, not an example of the module'
        'README: dotnet pwsh -NoProfile -File ./build.ps1 Build' = 'a shell command that builds the module, not an example of it'
        'README: Import-Module ./LkmPowerShell.psd1'       = 'imports the module, which this test has done (from the repository root)'
        'ConvertTo-KernelModuleGraph: Example 3: An SVG file of the loaded modules' = 'needs Graphviz, which the test machines need not have; DependencyGraph.Tests.ps1 proves -Format Svg with a stand-in dot'
    }
    # An example that changes the system runs here as a plan (-WhatIf by default), and says so in
    # its name; the changes themselves run for real in the kernel bench's guest suites.
    $changing = 'Import-KernelModule|Remove-KernelModule|Update-ModuleDependency|Disable-KernelModule|Enable-KernelModule|Set-KernelModuleParameter'
    $script:runnable = @($examples | Where-Object { -not $NotRunOffline.ContainsKey($_.Id) } | ForEach-Object {
            $_ + @{ Mode = if ($_.Code -match $changing) { 'plan only (-WhatIf); the change runs in the guest' } else { 'as written' } }
        })
    $script:listed = @($examples | Where-Object { $NotRunOffline.ContainsKey($_.Id) } | ForEach-Object { $_ + @{ Reason = $NotRunOffline[$_.Id] } })
    $script:unknownListed = @($NotRunOffline.Keys | Where-Object { $_ -notin $examples.Id })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    $plain = Get-KernelFixture plain
    $xz = Get-KernelFixture xz
    $script:version = $plain.Version

    # The system: 6.1 running, with fat, msdos, a sound module, nf_conntrack, dummy and nbd loaded.
    $script:sys = Join-Path $TestDrive 'system'
    foreach ($d in 'proc/sys/kernel', 'etc/modprobe.d', 'etc/modules-load.d', 'boot',
        'sys/module/nf_conntrack/parameters', 'sys/module/dummy/parameters', 'sys/module/fat', 'sys/module/msdos',
        'sys/module/snd_pcm', 'sys/module/nbd') {
        New-Item -ItemType Directory -Force (Join-Path $sys $d) | Out-Null
    }
    Set-Content (Join-Path $sys 'proc/sys/kernel/osrelease') $version
    Set-Content (Join-Path $sys 'proc/modules') @(
        'msdos 20480 0 - Live 0x0000000000000000'
        'fat 86016 1 msdos, Live 0x0000000000000000'
        'snd_pcm 155648 0 - Live 0x0000000000000000'
        'nf_conntrack 176128 0 - Live 0x0000000000000000'
        'dummy 16384 0 - Live 0x0000000000000000'
        'nbd 65536 0 - Live 0x0000000000000000')
    Set-Content (Join-Path $sys 'proc/kallsyms') @(
        "ffffffff81000000 T vfs_read", "ffffffff81000010 T vfs_write", "ffffffffc0000000 T fat_time_unix2fat`t[fat]")
    Set-Content (Join-Path $sys 'sys/module/nf_conntrack/parameters/hashsize') '4096'
    Set-Content (Join-Path $sys 'sys/module/dummy/parameters/numdummies') '1'
    # The running kernel's tree: the modules the examples name and their dependencies (hard links
    # from Debian's 6.1 tree), indexed by Update-ModuleDependency, so that the examples that read
    # every installed module stay quick. The 6.12 tree, which the examples only look into, is whole.
    $tree = Join-Path $sys "lib/modules/$($plain.Version)"
    $wanted = 'msdos', 'vfat', 'dummy', 'brd', 'nbd', 'nf_conntrack', 'usb_storage', 'cramfs', 'freevxfs', 'jffs2', 'hfs',
        'hfsplus', 'squashfs', 'udf', 'snd_hda_intel', 'dccp', 'sctp'
    $deps = @{}
    foreach ($line in Get-Content (Join-Path $plain.ModulesDirectory 'modules.dep')) {
        $file, $needs = $line -split ':\s*', 2
        $deps[$file] = @($needs -split ' ' | Where-Object { $_ })
    }
    $take = @($deps.Keys | Where-Object { ((Split-Path -Leaf $_) -replace '\.ko.*$', '' -replace '-', '_') -in $wanted })
    foreach ($file in @($take + ($take | ForEach-Object { $deps[$_] })) | Sort-Object -Unique) {
        New-Item -ItemType Directory -Force (Split-Path (Join-Path $tree $file)) | Out-Null
        try { New-Item -ItemType HardLink -Path (Join-Path $tree $file) -Target (Join-Path $plain.ModulesDirectory $file) -ErrorAction Stop | Out-Null }
        catch { Copy-Item (Join-Path $plain.ModulesDirectory $file) (Join-Path $tree $file) }   # another file system
    }
    Copy-Item (Join-Path $plain.ModulesDirectory 'modules.builtin*'), (Join-Path $plain.ModulesDirectory 'modules.order') $tree
    Update-ModuleDependency -Root $sys -KernelVersion $plain.Version -ErrorAction Stop -WarningAction SilentlyContinue
    Copy-FixtureTree $xz.ModulesDirectory (Join-Path $sys "lib/modules/$($xz.Version)")
    Copy-Item (Join-Path $plain.Root "boot/System.map-$($plain.Version)") (Join-Path $sys 'boot')
    # The kernel images carry the certificates the signature examples verify against.
    foreach ($k in $plain, $xz) { Copy-Item (Join-Path $k.Root "boot/vmlinuz-$($k.Version)") (Join-Path $sys 'boot') }

    # The files the examples name, in the current folder.
    $script:work = Join-Path $TestDrive 'work'
    New-Item -ItemType Directory $work | Out-Null
    $fatDir = Join-Path $plain.ModulesDirectory 'kernel/fs/fat'
    Copy-Item (Join-Path $fatDir 'msdos.ko'), (Join-Path $fatDir 'fat.ko') $work
    Copy-Item (Join-Path $fatDir 'msdos.ko') (Join-Path $work 'mydriver.ko')
    Copy-Item (Join-Path $plain.ModulesDirectory 'kernel/drivers/block/brd.ko') (Join-Path $work 'vendor.ko')
    Copy-Item (Join-Path $plain.ModulesDirectory 'kernel/drivers/net/dummy.ko'), (Join-Path $plain.ModulesDirectory 'kernel/drivers/block/brd.ko') $work

    # What the kernel image exports, where the headers put it (lib/modules/VER/build): the real
    # Module.symvers when linux-headers is installed on this machine (the kernel bench installs
    # it), else a few rows, against which the depmod example reports more symbols (warnings).
    $build = Join-Path $sys "lib/modules/$($plain.Version)/build"
    New-Item -ItemType Directory $build | Out-Null
    $headers = "/usr/src/linux-headers-$($plain.Version)/Module.symvers"
    if (Test-Path $headers) { Copy-Item $headers $build }
    else { Set-Content (Join-Path $build 'Module.symvers') "0x00000000`tprintk`tvmlinux`tEXPORT_SYMBOL`t" }

    $script:defaults = @{}
    foreach ($c in Get-Command -Module LkmPowerShell -CommandType Cmdlet) {
        $defaults["$($c.Name):Root"] = $sys
        if ($c.Parameters.ContainsKey('WhatIf')) { $defaults["$($c.Name):WhatIf"] = $true }
    }

    function Assert-KnownParameters([string] $Code) {
        # Every parameter given to a cmdlet of the module exists (by name, prefix or alias).
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref] $null, [ref] $null)
        foreach ($call in $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true)) {
            $name = $call.GetCommandName()
            $command = Get-Command $name -Module LkmPowerShell -ErrorAction SilentlyContinue
            if (-not $command) { continue }
            foreach ($p in $call.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] }) {
                $known = $command.Parameters.Values | Where-Object { $_.Name -like "$($p.ParameterName)*" -or ($_.Aliases -contains $p.ParameterName) }
                $known | Should -Not -BeNullOrEmpty -Because "$name has a parameter -$($p.ParameterName)"
            }
        }
    }

    # A kernel release written in an example (6.1.0-57-amd64, 6.12.117+deb12-amd64) stands for the pinned
    # fixture of the same series, so an example never breaks because Debian published another build.
    $script:fixtureBySeries = @{}
    foreach ($f in $plain, $xz) { $fixtureBySeries[($f.Version -replace '^(\d+\.\d+)\..*$', '$1')] = $f.Version }
    function ConvertTo-PinnedRelease([string] $Code) {
        [regex]::Replace($Code, '(?<![\w.])(\d+\.\d+)\.\d+(?:-\d+)?(?:\+deb\d+)?-amd64(?![\w.])', {
                param($m) if ($fixtureBySeries.ContainsKey($m.Groups[1].Value)) { $fixtureBySeries[$m.Groups[1].Value] } else { $m.Value } })
    }

    function ConvertTo-Offline([string] $Code) {
        (ConvertTo-PinnedRelease $Code).Replace('/mnt/image', $sys).Replace('$(uname -r)', $version).
            Replace(' /lib/modules/', " $sys/lib/modules/").Replace(' /boot/', " $sys/boot/").Replace('/tmp/index', (Join-Path $TestDrive 'index'))
    }
}

Describe 'Help and README examples, offline' -Tag 'Oracle' {
    It '<Id> [<Mode>]' -ForEach $runnable {
        Assert-KnownParameters $Code
        $code = ConvertTo-Offline $Code
        Push-Location $work
        try {
            $PSDefaultParameterValues = $defaults.Clone()
            $ErrorActionPreference = 'Stop'
            # Formatted as the console would show it, so the views are exercised too.
            $null = & ([scriptblock]::Create($code)) | Out-String
        }
        finally { Pop-Location }
    }
}

Describe 'Examples that do not run offline' -Tag 'Oracle' {
    It 'names only examples that exist' -ForEach @{ Unknown = $unknownListed } {
        $Unknown | Should -BeNullOrEmpty -Because 'an entry for an example that is gone or renamed hides nothing'
    }

    It '<Id> (<Reason>) parses' -ForEach $listed {
        $Reason | Should -Not -BeNullOrEmpty
        $errors = $null
        [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref] $null, [ref] $errors) | Out-Null
        $errors | Should -BeNullOrEmpty
        Assert-KnownParameters $Code
    }
}

