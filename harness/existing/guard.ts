import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { RunOptions, RunResult } from '../cluster/exec.ts';

/**
 * The one gate every request of the existing-cluster mode passes: on a
 * cluster the harness did not create, it may write only inside its own
 * namespace (`pci-harness-probe-<run id>`, labelled as the harness's), or ask
 * for a server-side dry run (the API server persists nothing), or ask an
 * access review (SelfSubjectAccessReview and friends are answers, never
 * stored). Everything else is refused BEFORE it reaches the cluster, and the
 * refusal is kept so the run can show it. Unknown verbs and objects the guard
 * cannot see (`-f path`, imperative `create namespace`) are refused:
 * the guard fails closed.
 */
export const OWNER_LABEL = 'pci-harness.dev/existing-run';
export const NAMESPACE_PREFIX = 'pci-harness-probe-';

export interface GuardScope {
  /** The run id: the namespace is `pci-harness-probe-<runId>`, labelled OWNER_LABEL=<runId>. */
  runId: string;
  namespace: string;
}

export function scopeFor(runId: string): GuardScope {
  if (!/^[a-z0-9]([-a-z0-9]{0,28}[a-z0-9])?$/.test(runId)) throw new Error(`run id "${runId}" must be lower-case letters, digits and dashes (at most 30)`);
  return { runId, namespace: `${NAMESPACE_PREFIX}${runId}` };
}

export type GuardDecision = { allowed: true; why: string } | { allowed: false; why: string };

const READ_VERBS = new Set(['get', 'describe', 'logs', 'wait', 'version', 'api-resources', 'api-versions', 'cluster-info', 'explain', 'top', 'events']);
/** Verbs that act on objects named on the command line, in the namespace of `-n`. */
const NAMESPACED_ACTIONS = new Set(['delete', 'exec', 'label', 'annotate', 'patch', 'scale', 'cp', 'attach', 'port-forward']);
/** Verbs that carry their objects on stdin (`-f -`): each object is judged. */
const OBJECT_VERBS = new Set(['create', 'apply', 'replace']);
/** Not stored: the API server answers and forgets (authorization.k8s.io, authentication.k8s.io). */
const REVIEW_KINDS = new Set(['SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectReview']);
/** Global kubectl flags that take a value (skipped when looking for the verb). */
const VALUE_FLAGS = new Set(['--kubeconfig', '--context', '--as', '--as-group', '--as-uid', '--request-timeout', '--cluster', '--user', '-s', '--server']);

const deny = (why: string): GuardDecision => ({ allowed: false, why });
const allow = (why: string): GuardDecision => ({ allowed: true, why });

/** Value of `-n X` / `-nX` / `--namespace X` / `--namespace=X`, or undefined. */
function namespaceFlag(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a === '-n' || a === '--namespace') return args[i + 1];
    if (a.startsWith('--namespace=')) return a.slice('--namespace='.length);
    if (/^-n[^-]/.test(a)) return a.slice(2);
  }
  return undefined;
}

function hasFlag(args: readonly string[], re: RegExp): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => re.test(a));
}

/** The verb (first word that is not a global flag or its value) and what follows it. */
function verbOf(args: readonly string[]): { verb: string; rest: string[] } {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (VALUE_FLAGS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return { verb: a, rest: args.slice(i + 1) };
  }
  return { verb: '', rest: [] };
}

/** Positional words before `--`, without flags and the values of -n and the global value flags. */
function positional(rest: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--') break;
    if (a === '-n' || a === '--namespace' || a === '-l' || a === '--selector' || a === '-c' || a === '--container' || a === '-o' || VALUE_FLAGS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    out.push(a);
  }
  return out;
}

/** One object of a create/apply/replace: inside the scope, a review, or the scope's own namespace. */
export function decideObject(scope: GuardScope, o: unknown, nsFlag?: string): GuardDecision {
  if (!o || typeof o !== 'object') return deny('an object the guard cannot read');
  const obj = o as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown; labels?: Record<string, unknown> } };
  const kind = String(obj.kind ?? '');
  const name = String(obj.metadata?.name ?? '');
  if (REVIEW_KINDS.has(kind)) return allow(`${kind}: an access review, not stored`);
  if (kind === 'Namespace') {
    if (name !== scope.namespace) return deny(`Namespace/${name}: only the run's own namespace ${scope.namespace} may be created`);
    if (obj.metadata?.labels?.[OWNER_LABEL] !== scope.runId) return deny(`Namespace/${name}: must carry the label ${OWNER_LABEL}=${scope.runId}`);
    return allow(`Namespace/${name}: the run's own namespace`);
  }
  const ns = obj.metadata?.namespace ?? nsFlag;
  if (ns === undefined) return deny(`${kind}/${name}: no namespace (cluster-scoped, or defaulted by kubectl): outside ${scope.namespace}`);
  if (ns !== scope.namespace) return deny(`${kind}/${ns}/${name}: outside the run's namespace ${scope.namespace}`);
  return allow(`${kind}/${ns}/${name}: inside the run's namespace`);
}

/**
 * Does this kubectl call stay inside the scope? `input` is what goes to its
 * stdin (the objects of `-f -`). Pure: unit-tested in guard.test.ts.
 */
export function decideKubectl(scope: GuardScope, args: readonly string[], input?: string): GuardDecision {
  const { verb, rest } = verbOf(args);
  if (!verb) return deny('no verb');
  if (READ_VERBS.has(verb)) return allow(`${verb}: read only`);
  if (verb === 'auth') {
    const sub = rest.find((a) => !a.startsWith('-'));
    return sub === 'can-i' || sub === 'whoami' ? allow(`auth ${sub}: an access review, not stored`) : deny(`auth ${sub ?? ''}: changes RBAC objects`);
  }
  const nsFlag = namespaceFlag(args);
  if (hasFlag(args, /^--all-namespaces$|^-A$/)) return deny(`${verb} across all namespaces`);
  const dryRun = hasFlag(args, /^--dry-run=(server|client)$/);
  if (OBJECT_VERBS.has(verb)) {
    const files = args.flatMap((a, i) => (a === '-f' || a === '--filename' ? [args[i + 1]] : a.startsWith('--filename=') ? [a.slice(11)] : []));
    if (files.length !== 1 || files[0] !== '-') return deny(`${verb}: objects must come on stdin (-f -) so the guard can read each one`);
    if (dryRun) return allow(`${verb} --dry-run: the API server persists nothing`);
    const docs = parseAllDocuments(input ?? '');
    const objects = docs.map((d) => d.toJS() as unknown).filter((o) => o !== null);
    if (objects.length === 0) return deny(`${verb}: no object on stdin`);
    for (const o of objects) {
      const d = decideObject(scope, o, nsFlag);
      if (!d.allowed) return d;
    }
    return allow(`${verb}: ${objects.length} object(s) inside the run's namespace`);
  }
  if (NAMESPACED_ACTIONS.has(verb)) {
    const target = positional(rest);
    // `delete namespace <own>`: the one cluster-scoped object the run owns.
    if (verb === 'delete' && /^(namespace|namespaces|ns)$/.test(target[0] ?? '')) {
      const names = target.slice(1);
      if (hasFlag(args, /^(-l|--selector|--all)(=.*)?$/)) return deny('delete namespaces by selector: name the run\'s namespace');
      return names.length === 1 && names[0] === scope.namespace ? allow(`delete namespace ${scope.namespace}: the run's own`) : deny(`delete namespace ${names.join(' ')}: not the run's namespace`);
    }
    if (/^namespace\/(.+)$/.test(target[0] ?? '')) {
      const n = target[0]!.slice('namespace/'.length);
      return verb === 'delete' && n === scope.namespace ? allow(`delete namespace/${n}: the run's own`) : deny(`${verb} namespace/${n}: not allowed`);
    }
    if (nsFlag === undefined) return deny(`${verb} without -n: kubectl would use the context's namespace, outside ${scope.namespace}`);
    if (nsFlag !== scope.namespace) return deny(`${verb} in namespace ${nsFlag}: outside the run's namespace ${scope.namespace}`);
    if (dryRun) return allow(`${verb} --dry-run`);
    return allow(`${verb} in the run's namespace`);
  }
  return deny(`${verb}: not a verb the existing-cluster mode uses (refused on a cluster it did not create)`);
}

/** What the API server would be asked over REST (client-node): method and path with query. */
export function decideRest(scope: GuardScope, method: string, url: string): GuardDecision {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return allow(`${m}: read only`);
  const u = new URL(url, 'https://api.invalid');
  if (u.searchParams.get('dryRun') === 'All') return allow(`${m} dryRun=All: the API server persists nothing`);
  if (/^\/apis\/authorization\.k8s\.io\/v1\/(selfsubjectaccessreviews|selfsubjectrulesreviews|subjectaccessreviews)$/.test(u.pathname)) return allow('an access review, not stored');
  if (u.pathname.startsWith(`/api/v1/namespaces/${scope.namespace}/`) || new RegExp(`^/apis/[^/]+/[^/]+/namespaces/${scope.namespace}/`).test(u.pathname)) return allow(`${m} inside the run's namespace`);
  if (m === 'DELETE' && u.pathname === `/api/v1/namespaces/${scope.namespace}`) return allow(`DELETE the run's own namespace`);
  return deny(`${m} ${u.pathname}: outside the run's namespace ${scope.namespace}`);
}

/** Thrown instead of sending a refused request. */
export class GuardRefusal extends Error {
  readonly request: string;
  constructor(request: string, why: string) {
    super(`pci-harness existing-cluster guard REFUSED "${request}": ${why}`);
    this.name = 'GuardRefusal';
    this.request = request;
  }
}

export interface GuardLog {
  refused: Array<{ request: string; why: string }>;
  allowedWrites: number;
}

export type Kubectl = (args: string[], opts?: RunOptions) => Promise<RunResult>;

/**
 * kubectl behind the guard: a refused call never runs; it throws GuardRefusal
 * and is logged. The caller's kubectl (with --kubeconfig/--context) is `inner`.
 */
export function guardKubectl(scope: GuardScope, inner: Kubectl, log: GuardLog): Kubectl {
  return async (args, opts) => {
    const d = decideKubectl(scope, args, opts?.input === undefined ? undefined : String(opts.input));
    if (!d.allowed) {
      const request = `kubectl ${args.join(' ')}`.slice(0, 300);
      log.refused.push({ request, why: d.why });
      throw new GuardRefusal(request, d.why);
    }
    if (!READ_VERBS.has(verbOf(args).verb)) log.allowedWrites++;
    return inner(args, opts);
  };
}

/**
 * The same guard for client-node calls: a KubeConfig whose every request is
 * judged by `decideRest` before its credentials are attached (nothing in the
 * mode writes through client-node today; this keeps it so).
 */
export function guardKubeConfig(scope: GuardScope, source: KubeConfig, log: GuardLog): KubeConfig {
  class GuardedKubeConfig extends KubeConfig {
    override async applySecurityAuthentication(context: Parameters<KubeConfig['applySecurityAuthentication']>[0]): Promise<void> {
      const d = decideRest(scope, String(context.getHttpMethod()), context.getUrl());
      if (!d.allowed) {
        const request = `${String(context.getHttpMethod())} ${context.getUrl()}`.slice(0, 300);
        log.refused.push({ request, why: d.why });
        throw new GuardRefusal(request, d.why);
      }
      return super.applySecurityAuthentication(context);
    }
  }
  const kc = new GuardedKubeConfig();
  kc.loadFromString(source.exportConfig());
  kc.setCurrentContext(source.getCurrentContext());
  return kc;
}
