import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyProbe, probeScript, type ProbeTarget } from './probe.ts';

const http: ProbeTarget = { host: 'payment-api.cde-frontend', port: 8443, protocol: 'https' };
const tcp: ProbeTarget = { host: '10.0.0.5', port: 5432, protocol: 'tcp' };
const out = (stdout: string, exitCode = 0, stderr = '') => ({ stdout, exitCode, stderr });

describe('classifyProbe (tri-state: a broken probe is never "blocked")', () => {
  it('HTTP answer → allowed, with the status', () => {
    expect(classifyProbe(out('\nPCI_PROBE-W 200 0.001\nPCI_PROBE curl 0'), http)).toEqual({ outcome: 'allowed', detail: 'HTTP 200', httpStatus: 200 });
  });
  it('connect timeout without connecting → blocked', () => {
    expect(classifyProbe(out('curl: (28) Connection timed out after 2001 milliseconds\nPCI_PROBE-W 000 0.000000\nPCI_PROBE curl 28', 28), http).outcome).toBe('blocked');
  });
  it('timeout AFTER connecting (server silent) → check-failed, not blocked', () => {
    const r = classifyProbe(out('curl: (28) Operation timed out\nPCI_PROBE-W 000 0.0012\nPCI_PROBE curl 28'), http);
    expect(r.outcome).toBe('check-failed');
    expect(r.detail).toMatch(/connected, but the server did not answer/);
  });
  it('DNS failure → check-failed', () => {
    expect(classifyProbe(out('curl: (6) Could not resolve host\nPCI_PROBE-W 000 0.000000\nPCI_PROBE curl 6'), http)).toMatchObject({ outcome: 'check-failed', detail: expect.stringMatching(/^DNS/) });
  });
  it('connection refused → check-failed (no listener), not blocked', () => {
    expect(classifyProbe(out('curl: (7) Failed to connect: Connection refused\nPCI_PROBE-W 000 0.000000\nPCI_PROBE curl 7'), http).outcome).toBe('check-failed');
  });
  it('missing binary (sh exit 127) → check-failed', () => {
    expect(classifyProbe(out('sh: 1: curl: not found\nPCI_PROBE curl 127'), http)).toMatchObject({ outcome: 'check-failed', detail: 'curl is missing from the probe image' });
  });
  it('exec failure (no marker line) → check-failed, naming the error', () => {
    const r = classifyProbe(out('', 1, 'Error from server (NotFound): pods "probe" not found'), http);
    expect(r.outcome).toBe('check-failed');
    expect(r.detail).toMatch(/NotFound/);
  });
  it('nc: connected → allowed; timed out → blocked; refused / DNS → check-failed', () => {
    expect(classifyProbe(out('Connection to 10.0.0.5 5432 port [tcp/*] succeeded!\nPCI_PROBE nc 0'), tcp).outcome).toBe('allowed');
    expect(classifyProbe(out('nc: connect to 10.0.0.5 port 5432 (tcp) timed out: Operation now in progress\nPCI_PROBE nc 1'), tcp).outcome).toBe('blocked');
    expect(classifyProbe(out('nc: connect to 10.0.0.5 port 5432 (tcp) failed: Connection refused\nPCI_PROBE nc 1'), tcp).outcome).toBe('check-failed');
    expect(classifyProbe(out('nc: getaddrinfo for host "db" port 5432: Name or service not known\nPCI_PROBE nc 1'), tcp).outcome).toBe('check-failed');
    expect(classifyProbe(out('mystery\nPCI_PROBE nc 1'), tcp).outcome).toBe('check-failed');
  });
});

describe('probeScript', () => {
  it('refuses hosts that could inject shell', () => {
    expect(() => probeScript({ host: "x'; rm -rf /; '", port: 1 })).toThrow(/not a DNS name or IP/);
  });
  it('brackets IPv6 literals in URLs', () => {
    expect(probeScript({ host: 'fd00::1', port: 80 })).toContain('http://[fd00::1]:80/');
  });
});

// The same script, run for real by the host's sh + curl against real sockets (no cluster needed).
describe('probeScript + classifyProbe against real sockets', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const runLocal = async (t: ProbeTarget, env?: Record<string, string>) => {
    const r = await execa('/bin/sh', ['-c', probeScript(t)], { reject: false, env, extendEnv: env === undefined });
    return classifyProbe({ stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 }, t);
  };

  it('a listening server → allowed HTTP 200', async () => {
    expect(await runLocal({ host: '127.0.0.1', port })).toEqual({ outcome: 'allowed', detail: 'HTTP 200', httpStatus: 200 });
  });
  it('a closed port → check-failed (refused), never blocked', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const p = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect((await runLocal({ host: '127.0.0.1', port: p })).outcome).toBe('check-failed');
  });
  it('an unresolvable name → check-failed (DNS)', async () => {
    expect(await runLocal({ host: 'no-such-host.invalid', port: 80 })).toMatchObject({ outcome: 'check-failed', detail: expect.stringMatching(/^DNS/) });
  });
  it('no curl on PATH → check-failed (missing binary)', async () => {
    expect(await runLocal({ host: '127.0.0.1', port }, { PATH: '/nonexistent' })).toMatchObject({ outcome: 'check-failed', detail: 'curl is missing from the probe image' });
  });
});
