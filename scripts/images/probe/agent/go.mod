module pci-harness/probe-agent

go 1.24
