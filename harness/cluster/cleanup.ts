import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { killAllChildren, run } from './exec.ts';
import { containersOf, pciContainers, pciNetworks, removeClusterResources } from './kind/docker.ts';
import { clusterWorkDir, runsDir } from './paths.ts';

/**
 * Cleanup always runs: on success and failure (callers use try/finally), on
 * SIGINT/SIGTERM (handlers below delete, then exit 130/143), and after a crash
 * (the next start sweeps clusters whose recorded pid is dead).
 */

interface RunRecord {
  name: string;
  pid: number;
  host: string;
  startedAt: string;
  provider: string;
  /** Left running on purpose (`pci-harness up`): not a leak, only `pci-harness down` removes it. */
  kept?: boolean;
}

export function recordRun(name: string, provider: string): RunRecord {
  mkdirSync(runsDir(), { recursive: true });
  const rec: RunRecord = { name, pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), provider };
  writeFileSync(join(runsDir(), `${name}.json`), `${JSON.stringify(rec, null, 2)}\n`);
  return rec;
}

export function readRunRecords(): RunRecord[] {
  if (!existsSync(runsDir())) return [];
  const out: RunRecord[] = [];
  for (const f of readdirSync(runsDir())) {
    if (!f.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(join(runsDir(), f), 'utf8')) as RunRecord);
    } catch {
      // A half-written record (crash during write): treat as stale by name.
      out.push({ name: f.slice(0, -'.json'.length), pid: 0, host: hostname(), startedAt: '', provider: 'kind' });
    }
  }
  return out;
}

/** The cluster outlives its process on purpose (`pci-harness up`): crash sweeps must leave it alone. */
export function markKept(name: string): void {
  const path = join(runsDir(), `${name}.json`);
  if (!existsSync(path)) return;
  const rec = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
  writeFileSync(path, `${JSON.stringify({ ...rec, kept: true }, null, 2)}\n`);
}

/** Forget a run: its record and its work dir (which holds the cluster's encryption key). */
export function forgetRun(name: string): void {
  rmSync(join(runsDir(), `${name}.json`), { force: true });
  rmSync(clusterWorkDir(name), { recursive: true, force: true });
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: exists but not ours — alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Records on this host whose process is gone: their clusters are leaks from a crash. */
export function staleRuns(records = readRunRecords()): RunRecord[] {
  return records.filter((r) => !r.kept && r.host === hostname() && r.pid !== process.pid && !pidAlive(r.pid));
}

/**
 * Delete everything of one cluster at the Docker level; needs no kind binary and
 * works on half-created clusters. A `docker run` whose client was killed can
 * still land a container seconds later (dockerd finishes the request; measured
 * here under load: containers appeared after two passes 1 s apart), so sweep
 * until the cluster has looked empty for `quietMs`, bounded by `maxMs`.
 */
export async function destroyCluster(name: string, opts: { quietMs?: number; maxMs?: number } = {}): Promise<void> {
  const quietMs = opts.quietMs ?? 6_000;
  const maxMs = opts.maxMs ?? 90_000;
  const t0 = Date.now();
  let emptySince: number | undefined;
  while (Date.now() - t0 < maxMs) {
    const before = await containersOf(name);
    await removeClusterResources(name);
    if (before.length === 0) {
      emptySince ??= Date.now();
      if (Date.now() - emptySince >= quietMs) break;
    } else {
      emptySince = undefined;
    }
    await new Promise((r) => setTimeout(r, 1500));
  }
  forgetRun(name);
}

/** Sweep leaks from crashed runs (recorded pid dead). Returns the names removed. */
export async function sweepStale(log: (l: string) => void = () => {}): Promise<string[]> {
  const stale = staleRuns();
  for (const r of stale) {
    log(`removing cluster ${r.name} left by dead process ${r.pid} (started ${r.startedAt})`);
    await destroyCluster(r.name, { quietMs: 0 });
  }
  return stale.map((r) => r.name);
}

export interface DownReport {
  clusters: string[];
  networks: string[];
}

/**
 * `pci-harness down`: remove every cluster, container, network and volume the
 * harness made — everything labelled with a pci-* kind cluster name or our
 * network label, plus recorded runs — whatever process made them. Clusters of
 * other kind users (names not starting with pci-) and kind's shared `kind`
 * network are left alone.
 */
export async function downAll(log: (l: string) => void = () => {}): Promise<DownReport> {
  const names = new Set<string>([...(await pciContainers()).keys(), ...readRunRecords().map((r) => r.name)]);
  const networks = await pciNetworks();
  for (const owner of networks.values()) names.add(owner);
  for (const name of [...names].sort()) {
    log(`deleting ${name}`);
    await destroyCluster(name);
  }
  // Networks whose cluster is already gone.
  for (const net of (await pciNetworks()).keys()) await run('docker', ['network', 'rm', net], { reject: false });
  return { clusters: [...names].sort(), networks: [...networks.keys()].sort() };
}

// ---- signal handling -------------------------------------------------------

const active = new Map<string, () => Promise<void>>();
let installed = false;
let shuttingDown = false;

/** Register a cluster for deletion if this process is interrupted. Returns the unregister function. */
export function deleteOnInterrupt(name: string, del: () => Promise<void>): () => void {
  installSignalHandlers();
  active.set(name, del);
  return () => active.delete(name);
}

/** Stop tracking a cluster (it was deleted normally). */
export function forgetOnInterrupt(name: string): void {
  active.delete(name);
}

/** True once SIGINT/SIGTERM cleanup has started: boot's own failure path then stays out of its way. */
export function isShuttingDown(): boolean {
  return shuttingDown;
}

function activeClusters(): string[] {
  return [...active.keys()];
}

const EXIT_FOR: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (shuttingDown) {
        process.stderr.write(`pci-harness: ${sig} again — cleanup still running, please wait\n`);
        return;
      }
      shuttingDown = true;
      void interruptCleanup(sig);
    });
  }
}

async function interruptCleanup(sig: string): Promise<void> {
  const names = activeClusters();
  // Silent when nothing is left to delete: vitest ends each worker with SIGTERM after its file, and
  // "SIGTERM received" after a green file reads like a failure.
  if (names.length) process.stderr.write(`pci-harness: ${sig} received — deleting ${names.join(', ')} before exit\n`);
  killAllChildren();
  for (const [name, del] of active) {
    try {
      await del();
    } catch (e) {
      process.stderr.write(`pci-harness: cleanup of ${name} failed: ${(e as Error).message}\n  hint: run \`pci-harness down\`\n`);
    }
  }
  process.exit(EXIT_FOR[sig] ?? 1);
}
