/**
 * kyverno.failure-action (2.2.6, or the requirement a rule's message names): every validate and verifyImages rule of the
 * set's Kyverno policies blocks (Enforce), decided per rule.
 *
 * Kyverno 1.16 semantics (api/kyverno/v1/common_types.go,
 * image_verification_types.go, spec_types.go): a rule's
 * `validate.failureAction` / `verifyImages[].failureAction` wins; otherwise
 * the deprecated `spec.validationFailureAction` applies; otherwise Audit, which
 * only reports. `failureActionOverrides` can turn Enforce into Audit for some
 * namespaces. Guide defect 16: the spec-level field is deprecated since 1.13,
 * so the set must say Enforce on each rule and not rely on it at all.
 */
import { at, type CheckResult } from '../../check/types.ts';
import type { LoadedObject } from '../../manifests/types.ts';
import { isKyvernoPolicy, rulesOf } from './policy.ts';

const CHECK = 'kyverno.failure-action';
const REQ = '2.2.6';
const VERIFY_REQ = '6.3.2';

export function failureActionResults(objects: LoadedObject[]): CheckResult[] {
  const out: CheckResult[] = [];
  for (const o of objects.filter(isKyvernoPolicy)) {
    const spec = (o.object.spec ?? {}) as Record<string, unknown>;
    const before = out.length;
    const fail = (message: string, path: (string | number)[], requirement = REQ) => out.push(at(o, { check: CHECK, requirement, status: 'fail', message }, path));
    if (spec.validationFailureAction !== undefined) {
      fail(
        `spec.validationFailureAction is deprecated since Kyverno 1.13 (guide defect 16); remove it and set failureAction: Enforce on each validate/verifyImages rule`,
        ['spec', 'validationFailureAction'],
      );
    }
    if (spec.validationFailureActionOverrides !== undefined) {
      fail('spec.validationFailureActionOverrides can switch rules to Audit per namespace; remove it', ['spec', 'validationFailureActionOverrides']);
    }
    if (spec.failurePolicy === 'Ignore') {
      fail('spec.failurePolicy: Ignore admits every request while Kyverno is unavailable (fail open); use Fail', ['spec', 'failurePolicy']);
    }
    if (spec.admission === false) {
      fail('spec.admission: false turns the policy off at admission (background reports only); remove it', ['spec', 'admission']);
    }
    let enforced = 0;
    const named = new Set<string>();
    for (const { rule, index } of rulesOf(o)) {
      const name = String(rule.name);
      const validate = rule.validate as Record<string, unknown> | undefined;
      if (validate) {
        // The requirement the rule itself names (its message says "PCI DSS 2.2.3: ..."), else 2.2.6.
        const ruleReq = /PCI DSS (\d+(?:\.\d+)+)/.exec(typeof validate.message === 'string' ? validate.message : '')?.[1] ?? REQ;
        named.add(ruleReq);
        if (validate.failureAction !== 'Enforce') {
          // The requirement the rule itself names (its message says "PCI DSS 2.2.3: ..."), else 2.2.6.
          fail(
            `rule ${name}: validate.failureAction is ${validate.failureAction === undefined ? 'not set (Kyverno defaults to Audit, or to the deprecated spec-level field)' : JSON.stringify(validate.failureAction)}; set failureAction: Enforce so violations are blocked, not only reported`,
            validate.failureAction === undefined ? ['spec', 'rules', index, 'validate'] : ['spec', 'rules', index, 'validate', 'failureAction'],
            ruleReq,
          );
        } else enforced++;
        if (validate.failureActionOverrides !== undefined) {
          fail(`rule ${name}: validate.failureActionOverrides can switch the rule to Audit per namespace; remove it`, ['spec', 'rules', index, 'validate', 'failureActionOverrides']);
        }
      }
      const verify = rule.verifyImages;
      if (Array.isArray(verify)) {
        verify.forEach((v: Record<string, unknown>, j) => {
          if (v?.failureAction !== 'Enforce') {
            fail(
              `rule ${name}: verifyImages[${j}].failureAction is ${v?.failureAction === undefined ? 'not set (defaults to Audit)' : JSON.stringify(v.failureAction)}; set failureAction: Enforce`,
              ['spec', 'rules', index, 'verifyImages', j],
              // Unverified images are a software-integrity finding (trusted components), not only a parameter.
              VERIFY_REQ,
            );
          } else enforced++;
        });
      }
    }
    if (out.length === before && enforced > 0) {
      out.push(
        at(o, {
          check: CHECK,
          // A policy whose every rule names one requirement (cde-node-isolation: 2.2.3) proves that one.
          requirement: named.size === 1 ? [...named][0]! : REQ,
          status: 'pass',
          message: `all ${enforced} validate/verifyImages rule(s) enforce per rule (failureAction: Enforce), no deprecated spec.validationFailureAction`,
        }),
      );
    }
  }
  return out;
}
