import { adversary } from '../../../harness/scenario/adversaries.ts';
import { scenario, target } from '../../../harness/scenario/scenario.ts';
import { describeScenario } from '../support/scenario.ts';

/**
 * The guide's pre-assessment failure 1 ("a non-CDE namespace can reach CDE
 * pods"), corrected: its curl "times out" even when the Service does not
 * exist (defect 10). Here the outsider in `default` probes each CDE
 * workload with the probe agent, which calls a timeout `blocked` only when
 * the same target answered its own probe in the same pass — and the same
 * outsider's allowed path (DNS) proves the source is not simply dead.
 */
describeScenario(
  scenario({
    id: 'assessor.failure-1-non-cde-reaches-cde',
    narrative: 'A pod in default (outside PCI scope) tries every CDE workload by Service name and pod IP.',
    from: adversary.outsider(),
    steps: (s) => [
      s.connect(target.service('cde-frontend/payment-api', 8443)).expect('blocked', { layer: 'networkpolicy-ingress' }),
      s.connect(target.pod('cde-frontend/payment-api', 8443)).expect('blocked', { layer: 'networkpolicy-ingress' }),
      s.connect(target.service('cde-processing/card-processor', 9443)).expect('blocked', { layer: 'networkpolicy-ingress' }),
      s.connect(target.service('cde-storage/datastore', 5432)).expect('blocked', { layer: 'networkpolicy-ingress' }),
      s.connect(target.dns('UDP')).expect('allowed'),
    ],
  }),
);
