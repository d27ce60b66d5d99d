import { hkdfSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InternalError } from '../shared/errors';

/** Bytes of key material a session key file must hold at least (the HMAC key's own size, RFC 2104 §3). */
export const MIN_KEY_BYTES = 32;

/**
 * The console's keys, each derived from one secret with HKDF (RFC 5869) under its own label, so a
 * session cookie can never be replayed as a login transaction or a dev sign-in link, or the reverse.
 */
export interface ConsoleKeys {
  /** HS256 key of session cookies. */
  session: Uint8Array;
  /** A256GCM key of the login transaction cookie (it carries the PKCE verifier, RFC 7636 §4.1). */
  login: Uint8Array;
  /** HS256 key of one-time dev sign-in links. */
  devLink: Uint8Array;
}

const derive = (material: Uint8Array, label: string): Uint8Array =>
  new Uint8Array(hkdfSync('sha256', material, 'grantline-console', label, 32));

export function deriveConsoleKeys(material: Uint8Array): ConsoleKeys {
  if (material.byteLength < MIN_KEY_BYTES)
    throw new InternalError(`the console session key must hold at least ${MIN_KEY_BYTES} bytes`);
  return {
    session: derive(material, 'session cookie v1'),
    login: derive(material, 'login transaction v1'),
    devLink: derive(material, 'dev sign-in link v1'),
  };
}

/** Reads GRANTLINE_CONSOLE_SESSION_KEY_FILE (e.g. `openssl rand -base64 48`); its bytes are the material. */
export async function readConsoleKeyFile(file: string): Promise<ConsoleKeys> {
  const text = (await readFile(file)).toString('utf8').trim();
  return deriveConsoleKeys(new TextEncoder().encode(text));
}
