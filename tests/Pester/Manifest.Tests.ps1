# The manifest is ready to publish: it passes Test-ModuleManifest, describes what the module does
# today, and the licence it names is in the repository and in the package.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:repo = Get-RepositoryRoot
    $script:manifest = Test-ModuleManifest (Join-Path $repo 'LkmPowerShell.psd1')
}

Describe 'The module manifest' {
    It 'describes every cmdlet family the module has, not future plans' {
        $manifest.Description | Should -Not -Match 'later version'
        foreach ($word in 'modinfo', 'modprobe', 'rmmod', 'depmod', 'Import-KernelModule', 'Remove-KernelModule', 'Update-ModuleDependency') {
            $manifest.Description | Should -Match ([regex]::Escape($word))
        }
    }

    It 'names the MIT licence that the LICENSE file holds' {
        $manifest.Copyright | Should -Match 'MIT'
        $manifest.LicenseUri | Should -Not -BeNullOrEmpty
        Get-Content -Raw (Join-Path $repo 'LICENSE') | Should -Match '^MIT License'
    }

    It 'has release notes' {
        $manifest.ReleaseNotes | Should -Not -BeNullOrEmpty
    }
}
