/**
 * Cilium pin. v1.19.7 is the one recent release whose whole module graph the
 * proxy here serves (shared/reference/cilium-and-log-shipping.md: v1.18.x and
 * v1.20.2 need forks that answer 403, v1.19.8's .mod is 403). The h1: hash is
 * what `go mod download -json` reported; cilium's own go.sum verifies every
 * dependency.
 */
import type { PinnedModule } from '../kyverno/gomodule.ts';

export const CILIUM: PinnedModule = {
  module: 'github.com/cilium/cilium',
  version: 'v1.19.7',
  sum: 'h1:tB4VfNVhRRlUD1fnVrZN/qhDQnjluMRMcWLK8XDRS6w=',
};

/** VERSION file of the module (the chart's appVersion and the image tags). */
export const CILIUM_VERSION = '1.19.7';
/** The module's commit time (its .info): the module zip has no git metadata, so revision/date come from the pin. */
export const CILIUM_TIME = '2026-08-18T08:34:44Z';

/** The chart's own image names (values.yaml image.repository, operator.image.repository + "-generic"), so the refs read as what they are. */
export const CILIUM_AGENT_REF = `quay.io/cilium/cilium:v${CILIUM_VERSION}`;
export const CILIUM_OPERATOR_REPO = 'quay.io/cilium/operator';
export const CILIUM_OPERATOR_REF = `${CILIUM_OPERATOR_REPO}-generic:v${CILIUM_VERSION}`;

/** Debian 12's LLVM: 1:19.1.7, the same upstream version Cilium's runtime image ships (the loader execs clang with -Werror). */
export const LLVM_MAJOR = 19;
