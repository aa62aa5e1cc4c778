import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { place } from '../../../harness/scenario/adversaries.ts';
import { adversary } from '../../../harness/scenario/adversaries.ts';
import { requireNetworkEnforcement, scenarioContext } from '../../../harness/scenario/context.ts';
import type { Position } from '../../../harness/scenario/positions.ts';
import type { LiveResult } from '../../../harness/scenario/result.ts';
import { recordLiveResults } from '../../../harness/scenario/sink.ts';
import { scenario, target } from '../../../harness/scenario/scenario.ts';
import { describeScenario, explain } from '../support/scenario.ts';
import { sharedCluster } from '../support/shared.ts';

/**
 * A compromised payment-api looks for credentials to the API server: no
 * ServiceAccount token in its filesystem (the pod inherits the workload's own
 * automount setting, not one the harness picks), and no network path to the
 * API server either way.
 */
const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
let position: Position;
let result: LiveResult;

describe('credential.no-api-token: a compromised payment-api finds no ServiceAccount token', () => {
  beforeAll(async () => {
    const cluster = sharedCluster();
    const ctx = await scenarioContext(cluster);
    await requireNetworkEnforcement(ctx);
    position = await place(ctx, adversary.compromised('cde-frontend/payment-api'));
    const probe = `ls -la ${TOKEN_DIR} 2>&1; echo "rc=$?"; cat ${TOKEN_DIR}/token >/dev/null 2>&1 && echo TOKEN-READABLE || echo no-token`;
    const r = await cluster.kubectl(['exec', '-n', position.namespace, position.name, '--', 'sh', '-c', probe], { reject: false });
    const ran = /rc=\d+/.test(r.stdout);
    const found = /TOKEN-READABLE/.test(r.stdout);
    result = {
      lane: 'live',
      check: 'live.network.api-token',
      requirement: '8.2.2',
      scenario: 'credential.no-api-token',
      adversary: position.adversary,
      action: `read ${TOKEN_DIR}/token`,
      predicted: 'blocked',
      observed: !ran ? 'check-failed' : found ? 'allowed' : 'blocked',
      status: !ran ? 'inconclusive' : found ? 'fail' : 'pass',
      layer: { kind: 'kubelet', names: ['automountServiceAccountToken: false (Deployment cde-frontend/payment-api, ServiceAccount payment-api)'] },
      object: 'Deployment/cde-frontend/payment-api',
      message: !ran ? `the exec did not run: ${r.stderr.trim()}` : found ? 'a ServiceAccount token is mounted in the compromised pod' : `no token in ${TOKEN_DIR}`,
      // The listing only: a token, if one were there, is never printed.
      evidence: r.stdout.replace(/TOKEN-READABLE/g, '(token file readable)').slice(0, 500),
      replay: `${position.execPrefix} sh -c 'ls -la ${TOKEN_DIR}'`,
      ...(found ? { finding: 'token mounted: a compromised pod can authenticate to the API server as its ServiceAccount' } : {}),
    };
    recordLiveResults([result]);
  });
  afterAll(async () => {
    await position?.dispose();
  });

  it('the token directory does not exist in the compromised pod', () => {
    expect(result.status, explain(result)).toBe('pass');
  });
});

// And the network half: the API server is out of reach, by ClusterIP and by its endpoint.
describeScenario(
  scenario({
    id: 'credential.no-api-path',
    narrative: 'Code execution in payment-api tries the API server directly.',
    requirement: '1.3.2',
    from: adversary.compromised('cde-frontend/payment-api'),
    steps: (s) => [
      s.connect(target.apiServer('cluster-ip')).expect('blocked', { layer: 'networkpolicy-egress' }),
      s.connect(target.apiServer('node-ip')).expect('blocked', { layer: 'networkpolicy-egress' }),
      s.connect(target.kubelet()).expect('blocked', { layer: 'networkpolicy-egress' }),
      s.connect(target.service('cde-processing/card-processor', 9443)).expect('allowed'),
    ],
  }),
);
