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

/*
 * k8s.io/apimachinery pkg/util/validation IsQualifiedName / IsValidLabelValue
 * and pkg/apis/meta/v1/validation ValidateLabelSelector, rule for rule.
 */
const QNAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a label key (a qualified name: optional DNS-subdomain prefix and "/", name part ≤ 63), or undefined. */
export function labelKeyError(key: string): string | undefined {
  const parts = key.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0] as string;
  else if (parts.length === 2) {
    const [prefix, n] = parts as [string, string];
    name = n;
    if (prefix.length === 0) return `label key "${key}": prefix part must be non-empty`;
    if (prefix.length > 253) return `label key "${key}": prefix part must be no more than 253 characters`;
    if (!DNS1123_SUBDOMAIN.test(prefix)) return `label key "${key}": prefix part must be a lowercase RFC 1123 subdomain (e.g. example.com)`;
  } else return `label key "${key}": a qualified name has at most one "/" (optional DNS subdomain prefix, e.g. example.com/MyName)`;
  if (name.length === 0) return `label key "${key}": name part must be non-empty`;
  if (name.length > 63) return `label key "${key}": name part must be no more than 63 characters`;
  if (!QNAME_PART.test(name)) return `label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`;
  return undefined;
}

/** Why `value` is not a label value (empty, or ≤ 63 alphanumerics with '-', '_', '.' inside), or undefined. */
export function labelValueError(value: string): string | undefined {
  if (value.length > 63) return `label value "${value}" must be no more than 63 characters`;
  if (value !== '' && !QNAME_PART.test(value)) return `label value "${value}" must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`;
  return undefined;
}

export interface SelectorValidationOptions {
  /** NetworkPolicyValidationOptions.AllowInvalidLabelValueInSelector: only when an UPDATE keeps an old invalid selector; false on create. */
  allowInvalidLabelValue?: boolean;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Every error the apiserver would raise for this selector (ValidateLabelSelector
 * plus what decoding into metav1.LabelSelector rejects: wrong types, unknown
 * fields), each prefixed with its field path relative to the selector.
 */
export function selectorErrors(sel: unknown, opts: SelectorValidationOptions = {}): string[] {
  if (!isMap(sel)) return ['selector must be a mapping'];
  const out: string[] = [];
  for (const k of Object.keys(sel)) if (k !== 'matchLabels' && k !== 'matchExpressions') out.push(`unknown field "${k}" (a label selector has matchLabels and matchExpressions)`);
  const ml = sel.matchLabels;
  if (ml !== undefined && ml !== null) {
    if (!isMap(ml)) out.push('matchLabels must be a mapping of label key to value');
    else
      for (const [k, v] of Object.entries(ml)) {
        const ke = labelKeyError(k);
        if (ke) out.push(`matchLabels: ${ke}`);
        if (typeof v !== 'string') out.push(`matchLabels.${k}: value ${JSON.stringify(v)} is not a string (quote it)`);
        else {
          const ve = labelValueError(v);
          if (ve) out.push(`matchLabels.${k}: ${ve}`);
        }
      }
  }
  const me = sel.matchExpressions;
  if (me !== undefined && me !== null) {
    if (!Array.isArray(me)) out.push('matchExpressions must be a list');
    else
      me.forEach((e: unknown, i: number) => {
        const at = `matchExpressions[${i}]`;
        if (!isMap(e)) return void out.push(`${at} must be a mapping (key, operator, values)`);
        const values = e.values;
        if (values !== undefined && values !== null && (!Array.isArray(values) || values.some((v) => typeof v !== 'string'))) out.push(`${at}.values must be a list of strings`);
        const vals = Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : [];
        const n = Array.isArray(values) ? values.length : 0;
        switch (e.operator) {
          case 'In':
          case 'NotIn':
            if (n === 0) out.push(`${at}.values must be specified when operator is 'In' or 'NotIn'`);
            break;
          case 'Exists':
          case 'DoesNotExist':
            if (n > 0) out.push(`${at}.values may not be specified when operator is 'Exists' or 'DoesNotExist'`);
            break;
          default:
            out.push(`${at}.operator "${String(e.operator)}" is not a valid selector operator (In, NotIn, Exists, DoesNotExist)`);
        }
        const key = typeof e.key === 'string' ? e.key : '';
        if (typeof e.key !== 'string' && e.key !== undefined) out.push(`${at}.key must be a string`);
        const ke = labelKeyError(key);
        if (ke) out.push(`${at}.key: ${ke}`);
        if (!opts.allowInvalidLabelValue)
          vals.forEach((v, j) => {
            const ve = labelValueError(v);
            if (ve) out.push(`${at}.values[${j}]: ${ve}`);
          });
      });
  }
  return out;
}

/** The apiserver's errors for this selector, joined (undefined when it would accept it). */
export function validateSelector(sel: unknown, opts: SelectorValidationOptions = {}): string | undefined {
  const e = selectorErrors(sel, opts);
  return e.length ? e.join('; ') : undefined;
}

export function selectorText(sel: LabelSelector | undefined): string {
  if (!sel) return '<none>';
  const parts = [
    ...Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(sel.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(',')})` : ''}`),
  ];
  return parts.length ? `{${parts.join(', ')}}` : '{} (all)';
}
