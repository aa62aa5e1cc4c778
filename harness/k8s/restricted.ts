/**
 * A container securityContext that satisfies Pod Security `restricted` and the
 * CDE Kyverno policy (read-only root, non-root, no privilege escalation, all
 * capabilities dropped, RuntimeDefault seccomp). Shared by the harness's own
 * pods and generated benchmark workloads.
 */
export const RESTRICTED_CONTAINER_SECURITY_CONTEXT = {
  privileged: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 65532,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};
