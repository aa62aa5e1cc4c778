/**
 * Upstream test data as Go modules: the directory of `<module>@<version>` in
 * the Go module cache, downloaded through the Go module proxy when it is not
 * there yet. Kubernetes ships the data its own tests run on (Pod Security
 * fixtures, audit policies, NetworkPolicy cases...) inside its staging
 * modules, so `go mod download` is the only network the offline tests need.
 *
 *   import { moduleDir, moduleDirOrSkip } from '../../scripts/upstream-testdata.ts';
 *   const dir = moduleDir('k8s.io/pod-security-admission', 'v0.34.12');   // throws UpstreamUnavailable
 *   const r = moduleDirOrSkip('k8s.io/pod-security-admission', 'v0.34.12'); // { dir } | { skip: reason }
 *
 * Order of attempts (each cheap, none surprising):
 *   1. `go mod download -json` with GOPROXY=off: answers from the module cache only;
 *   2. `go mod download -json` with the configured proxy (GOPROXY, default proxy.golang.org);
 *   3. no `go` binary at all: the extracted module directory under GOMODCACHE
 *      (or ~/go/pkg/mod) if a previous run left it there.
 * The module's checksum is verified by `go` against go.sum's database (GOSUMDB) as usual.
 *
 * The `go` binary: $GO, else /usr/local/go/bin/go, else `go` on PATH.
 * CLI: `node scripts/upstream-testdata.ts <module> <version>` prints the directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Neither the module cache nor the proxy could provide the module.
 * `offline` is true when the proxy could not be reached at all (network down, no `go`),
 * false when it answered but refused (unknown version, bad module path, checksum mismatch).
 */
export class UpstreamUnavailable extends Error {
  override name = 'UpstreamUnavailable';
  readonly offline: boolean;
  constructor(message: string, offline: boolean) {
    super(message);
    this.offline = offline;
  }
}

/**
 * Directory of `module@version` (extracted sources, read-only), fetched through
 * the Go module proxy if the cache lacks it. Throws UpstreamUnavailable with
 * every attempt's reason when neither works.
 */
export function moduleDir(module: string, version: string): string {
  const reasons: string[] = [];
  let offline = true;
  const go = goBinary();
  if (go) {
    for (const proxy of ['off', undefined]) {
      const r = download(go, module, version, proxy);
      if ('dir' in r) return r.dir;
      reasons.push(`${proxy === 'off' ? 'module cache' : 'module proxy'}: ${r.error}`);
      if (proxy === undefined) offline = UNREACHABLE.test(r.error);
    }
  } else reasons.push('no go binary ($GO, /usr/local/go/bin/go, PATH)');
  const cached = join(process.env.GOMODCACHE || join(process.env.GOPATH || join(homedir(), 'go'), 'pkg', 'mod'), `${escapePath(module)}@${escapePath(version)}`);
  if (existsSync(cached)) return cached;
  reasons.push(`not extracted at ${cached}`);
  throw new UpstreamUnavailable(`${module}@${version} unavailable: ${reasons.join('; ')}`, offline);
}

/** How `go` reports a proxy it cannot reach (as opposed to one that answers "no such version"). */
const UNREACHABLE = /dial tcp|no such host|connection refused|network is unreachable|i\/o timeout|TLS handshake timeout|deadline exceeded|proxyconnect|ETIMEDOUT|timed out|GOPROXY=off/i;

/**
 * moduleDir, but "absent from the cache AND the proxy unreachable" is a reason to
 * skip (`{ skip: why }`), not an exception. A proxy that answers and refuses
 * (a version that does not exist) still throws: that is a bug to fix, not an
 * environment to tolerate.
 */
export function moduleDirOrSkip(module: string, version: string): { dir: string } | { skip: string } {
  try {
    return { dir: moduleDir(module, version) };
  } catch (e) {
    if (e instanceof UpstreamUnavailable && e.offline) return { skip: e.message };
    throw e;
  }
}

// ---- internals ----

function goBinary(): string | undefined {
  for (const c of [process.env.GO, '/usr/local/go/bin/go']) if (c && existsSync(c)) return c;
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? 'go' : undefined;
}

function download(go: string, module: string, version: string, proxy: string | undefined): { dir: string } | { error: string } {
  // Outside any go.mod (a stray one in the cwd would change what `go mod download` means).
  const cwd = mkdtempSync(join(tmpdir(), 'upstream-testdata-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'on' };
    if (proxy) env.GOPROXY = proxy;
    const r = spawnSync(go, ['mod', 'download', '-json', `${module}@${version}`], { cwd, env, encoding: 'utf8', timeout: 180_000 });
    let info: { Dir?: string; Error?: string } = {};
    try {
      info = JSON.parse(r.stdout || '{}');
    } catch {
      /* not JSON: report stderr below */
    }
    if (r.status === 0 && info.Dir && existsSync(info.Dir)) return { dir: info.Dir };
    const error = info.Error || (r.error ? `${r.error.message} (timed out?)` : '') || r.stderr.trim() || `exit ${r.status}`;
    return { error: error.split('\n')[0] ?? error };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** Go module cache path escaping: every upper-case letter becomes "!" + its lower case. */
export function escapePath(p: string): string {
  return p.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [module, version] = process.argv.slice(2);
  if (!module || !version) {
    process.stderr.write('usage: node scripts/upstream-testdata.ts <module> <version>\n');
    process.exit(2);
  }
  try {
    process.stdout.write(`${moduleDir(module, version)}\n`);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(3);
  }
}
