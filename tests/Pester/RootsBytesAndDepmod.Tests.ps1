# modprobe.d read as bytes (kmod's modprobe -c the judge, its stdout compared as bytes), and
# Update-ModuleDependency refusing an output folder it cannot write before it reads the modules.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path (Get-RepositoryRoot) 'LkmPowerShell.psd1') -Force
    # kmod's stdout as bytes: through a file, since PowerShell decodes a native command's output as text.
    function Get-KmodShowConfigBytes([string] $Root) {
        $out = Join-Path $TestDrive 'kmod.out'
        & /bin/sh -c 'modprobe -c -C "$1/etc/modprobe.d" -d "$1" > "$2" 2>/dev/null' sh $Root $out
        [IO.File]::ReadAllBytes($out)
    }
    # A root with modprobe.d and the host's /proc/cmdline: kmod reads the host's whatever -d says.
    function New-BytesRoot([string] $Name) {
        $r = Join-Path $TestDrive $Name
        New-Item -ItemType Directory (Join-Path $r 'etc/modprobe.d'), (Join-Path $r 'proc') | Out-Null
        if (Test-Path /proc/cmdline) { Copy-Item /proc/cmdline (Join-Path $r 'proc/cmdline') } else { Set-Content (Join-Path $r 'proc/cmdline') '' }
        $r
    }
}

Describe 'Get-KernelModuleConfiguration reads modprobe.d as kmod does: bytes' -Tag 'Oracle' {
    BeforeAll {
        $script:root = New-BytesRoot 'bytes'
        # Latin-1 "été" and "über", a NUL that ends its line (kmod drops the rest), a tab in options.
        $bytes = [byte[]]@(
            [Text.Encoding]::ASCII.GetBytes('install foo echo ') + 0xE9 + [byte][char]'t' + 0xE9 + 0x0A +
            [Text.Encoding]::ASCII.GetBytes("options bar`tname=") + 0xFC + [Text.Encoding]::ASCII.GetBytes("ber`n") +
            [Text.Encoding]::ASCII.GetBytes('install x /bin/true') + 0x00 + [Text.Encoding]::ASCII.GetBytes("; echo not-run`n"))
        [IO.File]::WriteAllBytes((Join-Path $root 'etc/modprobe.d/latin1.conf'), $bytes)
    }

    It '-AsByteStream is byte for byte what modprobe -c prints' {
        $kmod = Get-KmodShowConfigBytes $root
        $kmod.Count | Should -BeGreaterThan 40 -Because 'the oracle printed the configuration'
        $ours = Get-KernelModuleConfiguration -Root $root -AsByteStream
        $ours.GetType() | Should -Be ([byte[]]) -Because 'one array, not a stream of bytes'
        [Convert]::ToHexString($ours) | Should -BeExactly ([Convert]::ToHexString($kmod))
    }

    It 'entries keep the bytes (one character each when not UTF-8) and a NUL ends the line' {
        $install = Get-KernelModuleConfiguration -Root $root -Kind Install
        ($install | Where-Object Module -EQ foo).Value | Should -BeExactly "echo $([char]0xE9)t$([char]0xE9)"
        ($install | Where-Object Module -EQ x).Value | Should -BeExactly '/bin/true'
    }

    It '-AsText of UTF-8 configuration is modprobe -c decoded as UTF-8' {
        $utf8 = New-BytesRoot 'utf8'
        [IO.File]::WriteAllText((Join-Path $utf8 'etc/modprobe.d/u.conf'), "install foo echo été`n")
        $kmod = [Text.Encoding]::UTF8.GetString((Get-KmodShowConfigBytes $utf8))
        $kmod | Should -Match 'echo été'
        # -AsText leaves out modprobe -c's last newline, which Set-Content and Out-File add back.
        $kmod | Should -Match '\n$'
        Get-KernelModuleConfiguration -Root $utf8 -AsText | Should -BeExactly $kmod.Substring(0, $kmod.Length - 1)
    }
}

Describe 'Update-ModuleDependency as a user who cannot write the output folder' {
    BeforeAll {
        # The synthetic tree's modules (no fixtures needed); copied into a tree of their own, unindexed.
        $script:synthetic = New-SyntheticModuleTree -Path (Join-Path $TestDrive 'synthetic')
    }

    It 'fails at once, naming the folder, before reading a module' {
        # As root the run drops to nobody (root writes anywhere); as any other user it runs as that
        # user, for whom the tree's folder is made read-only.
        $asNobody = [Environment]::UserName -eq 'root'
        # A world-readable place for nobody: the tree, and pwsh when its home is not readable.
        $base = Join-Path ([IO.Path]::GetTempPath()) "lkm-nobody-$PID"
        New-Item -ItemType Directory -Force $base | Out-Null
        $tree = $null
        try {
            & chmod 755 $base
            $root = Join-Path $base 'root'
            $tree = Join-Path $root "lib/modules/$($synthetic.Version)"
            New-Item -ItemType Directory -Force (Join-Path $tree 'kernel') | Out-Null
            Copy-Item (Join-Path $synthetic.ModulesDirectory 'modules.order') $tree
            Get-ChildItem (Join-Path $synthetic.ModulesDirectory 'kernel/fs/fat') -Filter *.ko | Copy-Item -Destination (Join-Path $tree 'kernel')
            # A damaged module: reading it would warn. No warning means no module was read.
            [IO.File]::WriteAllBytes((Join-Path $tree 'kernel/damaged.ko'), [byte[]](0x7F, 0x45, 0x4C, 0x46, 1, 2, 3))
            & chmod -R 755 $root
            # The module too, copied where nobody can read it (the clone may sit under a home only root can enter).
            $moduleCopy = Join-Path $base 'LkmPowerShell'
            New-Item -ItemType Directory $moduleCopy | Out-Null
            foreach ($item in 'LkmPowerShell.psd1', 'LkmPowerShell.Format.ps1xml', 'LkmPowerShell.Types.ps1xml', 'bin', 'en-US') {
                Copy-Item -Recurse -LiteralPath (Join-Path (Get-RepositoryRoot) $item) -Destination $moduleCopy
            }
            & chmod -R a+rX $moduleCopy
            $psd1 = Join-Path $moduleCopy 'LkmPowerShell.psd1'
            $script = "Import-Module '$psd1'; Update-ModuleDependency -Root '$root' -KernelVersion '$($synthetic.Version)' -ErrorVariable e -WarningVariable w -ErrorAction SilentlyContinue -WarningAction SilentlyContinue; " +
                "'ERRORS=' + @(`$e).Count; `$e | ForEach-Object { 'ID=' + `$_.FullyQualifiedErrorId; 'CATEGORY=' + `$_.CategoryInfo.Category; 'MESSAGE=' + `$_.Exception.Message }; 'WARNINGS=' + @(`$w).Count"
            if ($asNobody) {
                $pwshHome = Join-Path $base 'pwsh'
                & cp -r $PSHOME $pwshHome
                $home2 = Join-Path $base 'home'
                New-Item -ItemType Directory $home2 | Out-Null
                & chmod 777 $home2
                $out = & env "HOME=$home2" "DOTNET_CLI_HOME=$home2" setpriv --reuid=65534 --regid=65534 --clear-groups dotnet (Join-Path $pwshHome 'pwsh.dll') -NoProfile -NonInteractive -Command $script 2>&1
            }
            else {
                & chmod 555 $tree
                $out = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $script 2>&1
            }
            $text = $out -join "`n"
            $text | Should -Match 'ERRORS=1'
            $text | Should -Match 'CATEGORY=PermissionDenied'
            $text | Should -Match ([regex]::Escape("MESSAGE=Cannot write the index files: $tree"))
            $text | Should -Not -Match '\.lkmps-|\.tmp'
            $text | Should -Match 'WARNINGS=0' -Because 'the damaged module was never read'
            Test-Path (Join-Path $tree 'modules.dep') | Should -BeFalse
        }
        finally {
            if ($tree) { & chmod 755 $tree }
            if ($base -like '*/lkm-nobody-*') { & rm -rf -- $base }
        }
    }
}
