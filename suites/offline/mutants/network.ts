import type { Mutant } from '../mutants.ts';
import { find, NP_FRONT, NP_PROC, NP_STORE } from './helpers.ts';

/**
 * More network weakenings (see ../mutants.ts for the rules every mutant follows).
 *
 * The live lane (suites/live/scenarios/lateral-matrix.test.ts) replays every
 * mutant whose check starts with `network.` on the running cluster and
 * requires its probe matrix to observe it. So:
 *  - `network.*` here only for weakenings a probe sees (net-ipblock-pod-network:
 *    card-processor → default/attacker:80 by pod IP flips on Calico);
 *  - over-permission on ports or pods nobody uses today is, by definition,
 *    invisible to probes: those mutants name `netpol.over-permission`.
 */
export const MUTANTS_NETWORK: Mutant[] = [
  {
    id: 'net-ipblock-pod-network',
    description: 'card-processor egress gains ipBlock 10.0.0.0/8 on 80/TCP ("an internal service by address"): it holds the pod network, so card-processor reaches every pod on 80',
    requirement: '1.3.2',
    check: 'network.reachability',
    file: NP_PROC,
    mutate: (docs) => {
      find(docs, 'NetworkPolicy', 'card-processor-egress', 'cde-processing').spec.egress.push({ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ protocol: 'TCP', port: 80 }] });
      return docs;
    },
  },
  {
    id: 'net-over-permission-port-range',
    description: 'card-processor ingress opens 9443-9999/TCP instead of 9443: nothing listens on the other 556 ports today (a debug port next month would be reachable from payment-api)',
    requirement: '1.3.1',
    check: 'netpol.over-permission',
    file: NP_PROC,
    mutate: (docs) => {
      const port = find(docs, 'NetworkPolicy', 'card-processor-ingress', 'cde-processing').spec.ingress[0].ports[0];
      if (port.port !== 9443) throw new Error('mutant target port 9443 not found');
      port.endPort = 9999;
      return docs;
    },
  },
  {
    id: 'net-over-permission-all-ports',
    description: 'card-processor egress to the datastore loses its ports: every port of the datastore pods is open to card-processor, though only 5432 listens today',
    requirement: '1.3.2',
    check: 'netpol.over-permission',
    file: NP_PROC,
    mutate: (docs) => {
      const rule = find(docs, 'NetworkPolicy', 'card-processor-egress', 'cde-processing').spec.egress.find((r: { ports?: Array<{ port?: unknown }> }) => r.ports?.some((p) => p.port === 5432));
      if (!rule) throw new Error('mutant target egress rule to 5432 not found');
      delete rule.ports;
      return docs;
    },
  },
  {
    id: 'net-over-permission-wider-peer',
    description: 'payment-api ingress admits app=ingress-controller pods from ANY namespace (namespaceSelector {}): only the edge has that label today; a pod so labelled in any namespace tomorrow reaches the CDE',
    requirement: '1.3.1',
    check: 'netpol.over-permission',
    file: NP_FRONT,
    mutate: (docs) => {
      find(docs, 'NetworkPolicy', 'payment-api-ingress', 'cde-frontend').spec.ingress[0].from[0].namespaceSelector = {};
      return docs;
    },
  },
];

/**
 * Weakenings the apiserver REJECTS: the live lane cannot apply them (kubectl
 * fails), so they stay out of MUTANTS (which the live lane replays) and
 * harness/analyzers/network.test.ts runs them on a copy of the shipped set.
 * The danger they model is real all the same: an invalid NetworkPolicy in a
 * GitOps repository never reaches the cluster, so its isolation is missing.
 */
export const MUTANTS_NETWORK_REJECTED: Mutant[] = [
  {
    id: 'net-invalid-label-key',
    description: 'datastore-ingress peer selects pods by label key "app name" (a space): the apiserver rejects the policy, so card-processor → datastore:5432 is never allowed',
    requirement: '1.2.1',
    check: 'network.policy-valid',
    file: NP_STORE,
    mutate: (docs) => {
      const peer = find(docs, 'NetworkPolicy', 'datastore-ingress', 'cde-storage').spec.ingress[0].from[0];
      peer.podSelector = { matchLabels: { 'app name': 'card-processor' } };
      return docs;
    },
  },
];
