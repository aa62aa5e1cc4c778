module pci-harness.dev/server

go 1.24
