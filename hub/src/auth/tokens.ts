import { randomUUID } from 'node:crypto';
import type { Role } from '@cityflow/protocol';
import { SignJWT, jwtVerify } from 'jose';

export const JWT_ISSUER = 'cityflow-hub';
export const JWT_AUDIENCE = 'cityflow-api';
/** One algorithm, pinned on verify too, so a forged `alg: none` or RS/HS confusion is refused. */
const ALG = 'HS256';

export interface TokenClaims {
  sub: string;
  email: string;
  role: Role;
  jti: string;
  exp: number;
  /** the user's token version when it was issued: a role change, password reset or removal bumps it */
  tv: number;
}

export class TokenService {
  private readonly key: Uint8Array;
  constructor(
    secret: string,
    private readonly ttlS = 12 * 3600,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(
    user: { id: number; email: string; role: Role; token_version: number },
    nowS = Math.floor(Date.now() / 1000),
  ): Promise<string> {
    return new SignJWT({ email: user.email, role: user.role, tv: user.token_version })
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setSubject(String(user.id))
      .setIssuer(JWT_ISSUER)
      .setAudience(JWT_AUDIENCE)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + this.ttlS)
      .setJti(randomUUID())
      .sign(this.key);
  }

  /**
   * Tokens already verified, until their expiry: a dashboard polling with one token costs one HMAC,
   * not one per request (bounded; revocation is checked by the caller on every request).
   */
  private readonly verified = new Map<string, TokenClaims>();

  /** Verified claims, or null for anything forged, expired, or of another issuer/audience. */
  async verify(token: string): Promise<TokenClaims | null> {
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.exp * 1000 > Date.now()) return hit;
      this.verified.delete(token);
    }
    const claims = await this.verifyUncached(token);
    if (claims) {
      if (this.verified.size >= 10_000) this.verified.clear();
      this.verified.set(token, claims);
    }
    return claims;
  }

  private async verifyUncached(token: string): Promise<TokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALG],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
      });
      const role = payload.role;
      if (
        typeof payload.sub !== 'string' ||
        typeof payload.jti !== 'string' ||
        typeof payload.exp !== 'number' ||
        !Number.isInteger(payload.tv)
      )
        return null;
      if (role !== 'viewer' && role !== 'operator' && role !== 'admin') return null;
      return {
        sub: payload.sub,
        email: String(payload.email),
        role,
        jti: payload.jti,
        exp: payload.exp,
        tv: payload.tv as number,
      };
    } catch {
      return null;
    }
  }
}
