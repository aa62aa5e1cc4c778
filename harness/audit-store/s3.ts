import { createHash } from 'node:crypto';
import { signRequest, type Credentials } from './sigv4.ts';

/**
 * The few S3 calls the harness makes on the audit store, signed with SigV4,
 * path-style. Every call returns the HTTP status and S3 error code instead
 * of throwing on a 4xx: a refusal is an observation the tests judge.
 */
export interface S3Reply {
  status: number;
  /** S3 error code from the XML body (AccessDenied, ObjectLocked, ...), when there is one. */
  code?: string;
  /** The error's Message (why the store refused), when there is one. */
  message?: string;
  body: Buffer;
  headers: Headers;
}

export interface ObjectVersion {
  key: string;
  versionId: string;
  size: number;
  isLatest: boolean;
}

export interface LockConfiguration {
  enabled: boolean;
  mode?: string;
  days?: number;
  years?: number;
}

export interface Retention {
  mode?: string;
  retainUntil?: Date;
}

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');
const tag = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
const tagsAll = (xml: string, name: string): string[] => [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]!);
const unescapeXml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

export class S3Client {
  private readonly endpoint: string;
  private readonly creds: Credentials;
  private readonly region: string;

  constructor(endpoint: string, creds: Credentials, region = 'us-east-1') {
    this.endpoint = endpoint;
    this.creds = creds;
    this.region = region;
  }

  async request(method: string, path: string, opts: { query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<S3Reply> {
    const url = new URL(path.split('/').map(encodeURIComponent).join('/'), this.endpoint);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const headers = signRequest(this.creds, { method, url, headers: opts.headers, body: opts.body, region: this.region });
    delete headers.host; // fetch sets it from the URL (the same value was signed)
    const res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : new Uint8Array(Buffer.from(opts.body)), signal: AbortSignal.timeout(30_000) });
    const body = Buffer.from(await res.arrayBuffer());
    const code = res.status >= 300 ? tag(body.toString('utf8'), 'Code') : undefined;
    const message = res.status >= 300 ? tag(body.toString('utf8'), 'Message') : undefined;
    return { status: res.status, code, message, body, headers: res.headers };
  }

  /** A bucket with Object Lock (only possible at creation: S3 turns versioning on with it). */
  createLockedBucket(bucket: string): Promise<S3Reply> {
    return this.request('PUT', `/${bucket}`, { headers: { 'x-amz-bucket-object-lock-enabled': 'true' } });
  }

  createBucket(bucket: string): Promise<S3Reply> {
    return this.request('PUT', `/${bucket}`);
  }

  putLockConfiguration(bucket: string, mode: 'COMPLIANCE' | 'GOVERNANCE', days: number): Promise<S3Reply> {
    const body = `<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>${mode}</Mode><Days>${days}</Days></DefaultRetention></Rule></ObjectLockConfiguration>`;
    return this.request('PUT', `/${bucket}`, { query: { 'object-lock': '' }, body, headers: { 'content-md5': md5(body), 'content-type': 'application/xml' } });
  }

  /** undefined when the bucket has no Object Lock configuration (S3: ObjectLockConfigurationNotFoundError). */
  async lockConfiguration(bucket: string): Promise<LockConfiguration | undefined> {
    const r = await this.request('GET', `/${bucket}`, { query: { 'object-lock': '' } });
    if (r.status === 404 && r.code !== 'NoSuchBucket') return undefined;
    if (r.status !== 200) throw new Error(`GetObjectLockConfiguration ${bucket}: HTTP ${r.status} ${r.code ?? ''}`);
    const xml = r.body.toString('utf8');
    const num = (s?: string) => (s === undefined ? undefined : Number(s));
    return { enabled: tag(xml, 'ObjectLockEnabled') === 'Enabled', mode: tag(xml, 'Mode'), days: num(tag(xml, 'Days')), years: num(tag(xml, 'Years')) };
  }

  /** Every version of every object under `prefix` (ListObjectVersions, all pages). */
  async versions(bucket: string, prefix = ''): Promise<ObjectVersion[]> {
    const out: ObjectVersion[] = [];
    let marker: Record<string, string> = {};
    for (;;) {
      const r = await this.request('GET', `/${bucket}`, { query: { versions: '', prefix, ...marker } });
      if (r.status !== 200) throw new Error(`ListObjectVersions ${bucket}: HTTP ${r.status} ${r.code ?? ''}`);
      const xml = r.body.toString('utf8');
      for (const v of tagsAll(xml, 'Version')) {
        out.push({ key: unescapeXml(tag(v, 'Key') ?? ''), versionId: tag(v, 'VersionId') ?? '', size: Number(tag(v, 'Size') ?? 0), isLatest: tag(v, 'IsLatest') === 'true' });
      }
      if (tag(xml, 'IsTruncated') !== 'true') return out;
      marker = { 'key-marker': unescapeXml(tag(xml, 'NextKeyMarker') ?? ''), 'version-id-marker': tag(xml, 'NextVersionIdMarker') ?? '' };
    }
  }

  getObject(bucket: string, key: string, versionId?: string): Promise<S3Reply> {
    return this.request('GET', `/${bucket}/${key}`, { query: versionId ? { versionId } : {} });
  }

  putObject(bucket: string, key: string, body: Buffer | string): Promise<S3Reply> {
    return this.request('PUT', `/${bucket}/${key}`, { body, headers: { 'content-md5': md5(body) } });
  }

  deleteObject(bucket: string, key: string, versionId?: string): Promise<S3Reply> {
    return this.request('DELETE', `/${bucket}/${key}`, { query: versionId ? { versionId } : {} });
  }

  async retention(bucket: string, key: string, versionId: string): Promise<Retention | undefined> {
    const r = await this.request('GET', `/${bucket}/${key}`, { query: { retention: '', versionId } });
    if (r.status === 404 && r.code !== 'NoSuchKey') return undefined;
    if (r.status !== 200) throw new Error(`GetObjectRetention ${key}: HTTP ${r.status} ${r.code ?? ''}`);
    const xml = r.body.toString('utf8');
    const until = tag(xml, 'RetainUntilDate');
    return { mode: tag(xml, 'Mode'), retainUntil: until ? new Date(until) : undefined };
  }

  putRetention(bucket: string, key: string, versionId: string, mode: string, until: Date, bypassGovernance = false): Promise<S3Reply> {
    const body = `<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>${mode}</Mode><RetainUntilDate>${until.toISOString()}</RetainUntilDate></Retention>`;
    return this.request('PUT', `/${bucket}/${key}`, {
      query: { retention: '', versionId },
      body,
      headers: { 'content-md5': md5(body), 'content-type': 'application/xml', ...(bypassGovernance ? { 'x-amz-bypass-governance-retention': 'true' } : {}) },
    });
  }
}
