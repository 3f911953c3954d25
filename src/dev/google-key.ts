/**
 * A throwaway Google service account: an RSA key pair made with node:crypto and the JSON key file
 * Google would hand out for it, written to a temp dir. The Sheets fake verifies JWTs signed with it.
 */
import { createVerify, generateKeyPair, type KeyObject, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface ServiceAccountKeyFile {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: string;
}

export interface ServiceAccountKey {
  /** Where the JSON key file was written (what `GOOGLE_APPLICATION_CREDENTIALS` points at). */
  path: string;
  json: ServiceAccountKeyFile;
  clientEmail: string;
  privateKeyId: string;
  privateKeyPem: string;
  publicKey: KeyObject;
  /** Removes the temp dir holding the key file. */
  remove(): Promise<void>;
}

export interface ServiceAccountKeyOptions {
  /** The key file's `token_uri`: point it at a fake so a token exchange never leaves the machine. */
  tokenUri?: string;
  projectId?: string;
  clientEmail?: string;
}

export async function makeServiceAccountKey(
  options: ServiceAccountKeyOptions = {},
): Promise<ServiceAccountKey> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const projectId = options.projectId ?? 'kaizen-test';
  const clientEmail = options.clientEmail ?? `kaizen-registration@${projectId}.iam.gserviceaccount.com`;
  const privateKeyId = randomBytes(20).toString('hex');
  const json: ServiceAccountKeyFile = {
    type: 'service_account',
    project_id: projectId,
    private_key_id: privateKeyId,
    private_key: privateKeyPem,
    client_email: clientEmail,
    client_id: String(100_000_000_000_000_000_000n + BigInt(randomBytes(6).readUIntBE(0, 6))),
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: options.tokenUri ?? 'https://oauth2.googleapis.com/token',
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(clientEmail)}`,
    universe_domain: 'googleapis.com',
  };
  const dir = await mkdtemp(join(tmpdir(), 'kaizen-google-key-'));
  const path = join(dir, 'service-account.json');
  await writeFile(path, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  return {
    path,
    json,
    clientEmail,
    privateKeyId,
    privateKeyPem,
    publicKey,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

const jwtHeaderSchema = z.object({ alg: z.string(), typ: z.string().optional(), kid: z.string().optional() });
const jwtClaimsSchema = z.looseObject({
  iss: z.string(),
  sub: z.string().optional(),
  aud: z.string().optional(),
  scope: z.string().optional(),
  iat: z.number(),
  exp: z.number(),
});

export type JwtClaims = z.infer<typeof jwtClaimsSchema>;

export type JwtCheck =
  | { ok: true; claims: JwtClaims; keyId: string | undefined }
  | { ok: false; reason: string };

/**
 * Verifies an RS256 JWT against a service account's public key and checks that it is current and
 * issued by that account; the caller checks audience or scope.
 */
export function verifyServiceAccountJwt(
  token: string,
  key: { publicKey: KeyObject; clientEmail: string },
): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'not a JWT' };
  const [encodedHeader = '', encodedClaims = '', signature = ''] = parts;
  let header: z.infer<typeof jwtHeaderSchema>;
  let claims: JwtClaims;
  try {
    header = jwtHeaderSchema.parse(JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')));
    claims = jwtClaimsSchema.parse(JSON.parse(Buffer.from(encodedClaims, 'base64url').toString('utf8')));
  } catch {
    return { ok: false, reason: 'malformed JWT' };
  }
  if (header.alg !== 'RS256') return { ok: false, reason: `unsupported alg ${header.alg}` };
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${encodedHeader}.${encodedClaims}`);
  if (!verifier.verify(key.publicKey, Buffer.from(signature, 'base64url'))) {
    return { ok: false, reason: 'invalid JWT signature' };
  }
  if (claims.iss !== key.clientEmail) return { ok: false, reason: `unknown issuer ${claims.iss}` };
  const now = Math.floor(Date.now() / 1000);
  // Google allows a little clock skew on both ends.
  if (claims.exp < now - 30) return { ok: false, reason: 'JWT expired' };
  if (claims.iat > now + 300) return { ok: false, reason: 'JWT issued in the future' };
  return { ok: true, claims, keyId: header.kid };
}
