/** Public API of the cluster harness: boot, probe, canary, cleanup. */
export { bootCluster, withCluster, newClusterName, type BootOptions, type BootedCluster } from './boot.ts';
export { downAll, sweepStale, installSignalHandlers, type DownReport } from './cleanup.ts';
export { chooseImageSource, type ImageMode, type ImageSource } from './images.ts';
export { KindProvider } from './kind/provider.ts';
export type { Cluster, ClusterLayout, ClusterProvider, ClusterSpec } from './provider.ts';
export type { Outcome, ProbePod } from './probe.ts';
export { runPod, deletePod, podIP } from './pods.ts';
export { runCanary, canaryFor, requireEnforcement, networkCheckStatus, EnforcementError, type CanaryResult, type CanaryVerdict } from './canary.ts';
export { assertNoPulls, findPulls } from './pulls.ts';
export { StepError } from './progress.ts';
export { attachCluster, clusterRef, type ClusterRef } from './attach.ts';
