import { auditAnalyzer } from '../analyzers/audit.ts';
import { encryptionAnalyzer } from '../analyzers/encryption.ts';
import { kyvernoAnalyzer } from '../analyzers/kyverno.ts';
import { networkAnalyzer } from '../analyzers/network.ts';
import { nodePoolAnalyzer } from '../analyzers/node-pool.ts';
import { podSecurityAnalyzer } from '../analyzers/pod-security.ts';
import { rbacAnalyzer } from '../analyzers/rbac.ts';
import { schemaAnalyzer } from '../analyzers/schema.ts';
import { specReviewAnalyzer } from '../spec/review.ts';
import type { Analyzer } from './types.ts';

/** Every control area `pci-harness check` proves, in report order. */
export function defaultAnalyzers(): Analyzer[] {
  return [
    schemaAnalyzer,
    networkAnalyzer,
    podSecurityAnalyzer,
    kyvernoAnalyzer,
    rbacAnalyzer,
    auditAnalyzer,
    encryptionAnalyzer,
    nodePoolAnalyzer,
    specReviewAnalyzer,
  ];
}
