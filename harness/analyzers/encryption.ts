import type { Analyzer, CheckResult } from '../check/types.ts';
import type { ManifestSet } from '../manifests/types.ts';
import { encryptionWired, keyMaterial, providerStrength, secretsCovered } from './encryption/checks.ts';

export { validateKeyMaterial, KEY_SIZES, PLACEHOLDER, type KeyCheck } from './encryption/key-material.ts';

/** Encryption at rest, offline: the EncryptionConfiguration template and its wiring into kind. */
export const encryptionAnalyzer: Analyzer = {
  area: 'encryption',
  title: 'Encryption of Secrets at rest',
  run(set: ManifestSet): CheckResult[] {
    const docs = set.objects.filter((o) => o.object.apiVersion === 'apiserver.config.k8s.io/v1' && o.object.kind === 'EncryptionConfiguration');
    const out: CheckResult[] = [];
    if (docs.length === 0) {
      out.push({ check: 'encryption.secrets-covered', requirement: '8.3.2', status: 'fail', message: 'no EncryptionConfiguration in the set: Secrets are stored in etcd unencrypted; add manifests/control-plane/encryption-config.yaml' });
    }
    for (const d of docs) out.push(...secretsCovered(d), ...providerStrength(d), ...keyMaterial(d));
    out.push(...encryptionWired(set));
    return out;
  },
};
