/**
 * Kyverno pin. 1.16 is the last minor where ClusterPolicy is not deprecated
 * (shared/reference/airgap-cluster.md). v1.16.3 is the newest 1.16 patch the
 * module proxy serves; the checksum database mirror does not serve its record,
 * so the h1: hash below (recorded from `go mod download -json`) is what
 * verifies it. Its dependencies are verified by the module's own go.sum.
 */
import type { PinnedModule } from './gomodule.ts';

export const KYVERNO: PinnedModule = {
  module: 'github.com/kyverno/kyverno',
  version: 'v1.16.3',
  sum: 'h1:3GLdM5AHkANxKSXu661SEswAnH8fO20Nk3y5DCqg0gA=',
};

/** Kyverno's Makefile stamps the version this way (LD_FLAGS). */
export const KYVERNO_LDFLAGS = `-s -w -X ${KYVERNO.module}/pkg/version.BuildVersion=${KYVERNO.version}`;
