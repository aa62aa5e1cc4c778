import { adversary } from '../../../harness/scenario/adversaries.ts';
import { scenario, target } from '../../../harness/scenario/scenario.ts';
import { describeScenario } from '../support/scenario.ts';

/** Adversary 1, one chain: code execution in the payment API tries to skip the processing tier. */
describeScenario(
  scenario({
    id: 'lateral.payment-api-skips-tier',
    narrative: 'Code execution in payment-api tries to reach the datastore directly, then the internet.',
    from: adversary.compromised('cde-frontend/payment-api'),
    steps: (s) => [
      s.connect(target.service('cde-storage/datastore', 5432)).expect('blocked', { layer: 'networkpolicy' }),
      s.connect(target.pod('cde-storage/datastore', 5432)).expect('blocked', { layer: 'networkpolicy' }),
      s.connect(target.internet(443)).expect('blocked', { layer: 'networkpolicy-egress' }),
      s.connect(target.apiServer()).expect('blocked', { layer: 'networkpolicy-egress' }),
      // Same source, the allowed path: the denials above are not a dead pod.
      s.connect(target.service('cde-processing/card-processor', 9443)).expect('allowed'),
      s.connect(target.dns('UDP')).expect('allowed'),
    ],
  }),
);
