/**
 * metav1.LabelSelector semantics (k8s.io/apimachinery pkg/apis/meta/v1
 * LabelSelectorAsSelector): matchLabels AND every matchExpression; an empty
 * selector ({}) matches everything. Operators: In, NotIn (also true when the
 * key is absent), Exists, DoesNotExist.
 */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export type Labels = Record<string, string>;

export function matchesSelector(sel: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== String(v)) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = (e.values ?? []).map(String);
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key] as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key] as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false; // invalid operator: the apiserver rejects it (see validateSelector)
    }
  }
  return true;
}

export function isEmptySelector(sel: LabelSelector | undefined): boolean {
  return !!sel && Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

/** Structural errors the apiserver would reject (ValidateLabelSelector). */
export function validateSelector(sel: unknown): string | undefined {
  if (sel === null || typeof sel !== 'object' || Array.isArray(sel)) return 'selector must be a mapping';
  const s = sel as LabelSelector;
  for (const e of s.matchExpressions ?? []) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) return `matchExpressions operator "${e.operator}" is not valid`;
    const n = (e.values ?? []).length;
    if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0) return `matchExpressions ${e.key} ${e.operator} needs values`;
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0) return `matchExpressions ${e.key} ${e.operator} must not have values`;
  }
  return undefined;
}

export function selectorText(sel: LabelSelector | undefined): string {
  if (!sel) return '<none>';
  const parts = [
    ...Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(sel.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(',')})` : ''}`),
  ];
  return parts.length ? `{${parts.join(', ')}}` : '{} (all)';
}
