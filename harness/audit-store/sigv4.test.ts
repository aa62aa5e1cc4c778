import { describe, expect, it } from 'vitest';
import { signRequest, uriEncode } from './sigv4.ts';

// AWS's published S3 SigV4 example ("GET Object", examplebucket, Range header):
// docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
const creds = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

describe('SigV4 signing for S3', () => {
  it("reproduces AWS's documented GET Object signature", () => {
    const h = signRequest(creds, {
      method: 'GET',
      url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
      headers: { Range: 'bytes=0-9' },
      region: 'us-east-1',
      now: new Date('2013-05-24T00:00:00Z'),
    });
    expect(h.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it("reproduces AWS's documented GET Bucket Lifecycle signature (a query parameter without a value)", () => {
    const h = signRequest(creds, { method: 'GET', url: new URL('https://examplebucket.s3.amazonaws.com/?lifecycle'), region: 'us-east-1', now: new Date('2013-05-24T00:00:00Z') });
    expect(h.authorization).toMatch(/Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543$/);
  });

  it('encodes like RFC 3986: unreserved kept, slash only in paths', () => {
    expect(uriEncode('a b/c~d*', true)).toBe('a%20b/c~d%2A');
    expect(uriEncode('a/b', false)).toBe('a%2Fb');
  });

  it('the secret is never in the headers it returns', () => {
    const h = signRequest(creds, { method: 'PUT', url: new URL('http://127.0.0.1:9000/b/k'), body: 'x', region: 'us-east-1' });
    expect(JSON.stringify(h)).not.toContain(creds.secretAccessKey);
  });
});
