import { createHash } from 'node:crypto';
import type { S3Client } from '../audit-store/s3.ts';
import type { AuditEvent } from './audit-log.ts';

/**
 * The shipped audit trail as the store holds it: every object version under
 * the shipper's prefix, read once, its sha256 kept (the hash manifest of
 * 10.3.4), its JSON lines parsed into audit events indexed by auditID. A
 * line that is not an audit event (no auditID) is counted, never trusted.
 */
export interface ShippedObject {
  key: string;
  versionId: string;
  size: number;
  sha256: string;
  events: number;
}

export interface ParsedObject {
  events: AuditEvent[];
  /** Lines that are not JSON or carry no auditID. */
  foreign: number;
}

/** One shipped object (marshaler `body`: the audit JSON lines, one per line). */
export function parseShippedObject(body: Buffer | string): ParsedObject {
  const events: AuditEvent[] = [];
  let foreign = 0;
  for (const line of body.toString().split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as AuditEvent;
      if (e && typeof e === 'object' && typeof e.auditID === 'string') events.push(e);
      else foreign++;
    } catch {
      foreign++;
    }
  }
  return { events, foreign };
}

export const sha256Hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export class TrailReader {
  private readonly seen = new Set<string>();
  /** auditID+stage → how many times the trail holds it (a duplicate is > 1). */
  readonly copies = new Map<string, number>();
  readonly objects: ShippedObject[] = [];
  readonly events: AuditEvent[] = [];
  foreignLines = 0;

  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;

  constructor(client: S3Client, bucket: string, prefix: string) {
    this.client = client;
    this.bucket = bucket;
    this.prefix = prefix;
  }

  /** Mark every version stored now as read, without reading it: later polls see only what arrives after. */
  async skipExisting(): Promise<number> {
    const all = await this.client.versions(this.bucket, this.prefix);
    for (const v of all) this.seen.add(`${v.key}\u0000${v.versionId}`);
    return all.length;
  }

  /** Read every version not read yet; returns the events read so far. */
  async poll(): Promise<AuditEvent[]> {
    for (const v of await this.client.versions(this.bucket, this.prefix)) {
      const id = `${v.key}\u0000${v.versionId}`;
      if (this.seen.has(id)) continue;
      const r = await this.client.getObject(this.bucket, v.key, v.versionId);
      if (r.status !== 200) continue; // a delete marker or a version being written: read on the next poll
      this.seen.add(id);
      const parsed = parseShippedObject(r.body);
      this.foreignLines += parsed.foreign;
      for (const e of parsed.events) {
        const k = `${e.auditID}/${e.stage ?? ''}`;
        this.copies.set(k, (this.copies.get(k) ?? 0) + 1);
      }
      this.events.push(...parsed.events);
      this.objects.push({ key: v.key, versionId: v.versionId, size: r.body.length, sha256: sha256Hex(r.body), events: parsed.events.length });
    }
    return this.events;
  }

  /** Poll until `match` finds an event or the timeout: the event, the object holding it, when it was seen. */
  async find(match: (e: AuditEvent) => boolean, timeoutMs: number, intervalMs = 500): Promise<{ event?: AuditEvent; object?: ShippedObject; at: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.poll();
      const event = this.events.find(match);
      if (event) return { event, object: this.objectOf(event), at: Date.now() };
      if (Date.now() > deadline) return { at: Date.now() };
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** The object (version) a given event was read from: the first one holding its auditID and stage. */
  objectOf(event: AuditEvent): ShippedObject | undefined {
    let n = 0;
    for (const o of this.objects) {
      const slice = this.events.slice(n, n + o.events);
      n += o.events;
      if (slice.includes(event)) return o;
    }
    return undefined;
  }

  /** Events the trail holds more than once (auditID+stage), and how many extra copies. */
  duplicates(filter: (e: AuditEvent) => boolean = () => true): { events: number; extraCopies: number } {
    const keys = new Set(this.events.filter(filter).map((e) => `${e.auditID}/${e.stage ?? ''}`));
    let events = 0;
    let extraCopies = 0;
    for (const k of keys) {
      const c = this.copies.get(k) ?? 0;
      if (c > 1) {
        events++;
        extraCopies += c - 1;
      }
    }
    return { events, extraCopies };
  }
}
