import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { safeEqual } from '@cityflow/protocol';

/**
 * User passwords: scrypt (memory-hard), N=2^15, r=8, p=1 (~32 MiB, ~50 ms here) — people choose weak
 * passwords, so the hash must be slow to brute-force. Format: `scrypt$N$r$p$salt$hash` (base64url).
 */
const N = 2 ** 15;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEYLEN, { N: n, r, p, maxmem: 128 * n * r * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [tag, n, r, p, salt, hash] = stored.split('$');
  if (tag !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash to burn the same time when the user does not exist (no user enumeration by timing). */
export const DUMMY_HASH = `scrypt$${N}$${R}$${P}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(KEYLEN).toString('base64url')}`;

/** A random user password an admin hands over (shown once), when a reset does not name one. */
export const newUserPassword = () => randomBytes(18).toString('base64url');

/** Agent secrets: 32 random bytes, base64url. */
export function newAgentSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Constant-time comparison of an agent secret against its stored SHA-256. */
export function verifyAgentSecret(secret: string, storedHex: string): boolean {
  return safeEqual(sha256Hex(secret), storedHex);
}

/** Mosquitto password-file hash `$6$<salt b64>$<sha512(password || salt) b64>` (mosquitto_passwd's fast form). */
export function mosquittoHash(secret: string): string {
  const salt = randomBytes(12);
  const digest = createHash('sha512').update(secret).update(salt).digest();
  return `$6$${salt.toString('base64')}$${digest.toString('base64')}`;
}
