/**
 * Key checks from upstream k8s.io/apiserver/pkg/apis/apiserver/validation/validation_encryption.go
 * (validateKey): secrets are standard base64 (Go base64.StdEncoding: padded, no URL alphabet)
 * decoding to 16/24/32 bytes for aescbc/aesgcm (crypto/aes) and exactly 32 for secretbox
 * (nacl/secretbox). Results never contain the key itself.
 */
export const KEY_SIZES: Record<string, readonly number[]> = {
  aescbc: [16, 24, 32],
  aesgcm: [16, 24, 32],
  secretbox: [32],
};

export type KeyCheck = { ok: true; bytes: number } | { ok: false; reason: string };

/** A `${NAME}` template placeholder, substituted at cluster creation (never committed key material). */
export const PLACEHOLDER = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

export function validateKeyMaterial(provider: string, secretB64: string): KeyCheck {
  const sizes = KEY_SIZES[provider];
  if (!sizes) return { ok: false, reason: `provider "${provider}" takes no static keys` };
  if (secretB64 === '') return { ok: false, reason: 'secret is empty (a mandatory field)' };
  // Go's decoder skips \r and \n; everything else must be the standard alphabet with padding.
  const s = secretB64.replace(/[\r\n]/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return { ok: false, reason: 'secret is not standard padded base64' };
  const bytes = Buffer.from(s, 'base64').length;
  if (!sizes.includes(bytes)) return { ok: false, reason: `secret decodes to ${bytes} bytes; ${provider} needs ${sizes.join(' or ')}` };
  return { ok: true, bytes };
}
