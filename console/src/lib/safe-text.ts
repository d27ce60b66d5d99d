// The console never renders a secret value. The broker does not send any, and this is the second line:
// anything shaped like a Vault token or a compact JWS (an access token, an SVID) is withheld on screen.
const SECRET_SHAPES = [/hv[sbr]\.[A-Za-z0-9_-]{20,}/, /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/];

export const WITHHELD = '[withheld: looks like a credential]';

/** `value` as text to show, or a marker when it looks like a credential. */
export function safeText(value: unknown): string {
  const text =
    typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value);
  return SECRET_SHAPES.some((re) => re.test(text)) ? WITHHELD : text;
}

/** A long id shortened for a table cell (the full id is in the title and the accessible name). */
export const shortId = (id: string | null | undefined, keep = 8): string =>
  id ? (id.length > keep + 1 ? `${id.slice(0, keep)}…` : id) : '–';

/** The last path segment of a SPIFFE ID, which names the workload (the whole ID goes in `title`). */
export const workloadName = (spiffeId: string): string =>
  spiffeId.replace(/^spiffe:\/\/[^/]+/, '') || spiffeId;

export const when = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString(undefined, { hour12: false }) : '–';
