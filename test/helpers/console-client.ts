/**
 * A browser without a browser, for the console's integration tests: a cookie jar per origin, manual
 * redirects, and the test provider's login form. (The browser suite does the same in Chromium.)
 */
export interface ConsoleResponse {
  status: number;
  body: any;
  headers: Headers;
  setCookies: string[];
}

export class CookieJar {
  private readonly jars = new Map<string, Map<string, string>>();

  store(url: string, setCookies: string[]): void {
    const jar = this.jar(url);
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  header(url: string): string {
    return [...this.jar(url)].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(url: string, name: string): string | undefined {
    return this.jar(url).get(name);
  }

  set(url: string, name: string, value: string): void {
    this.jar(url).set(name, value);
  }

  private jar(url: string): Map<string, string> {
    const origin = new URL(url).origin;
    if (!this.jars.has(origin)) this.jars.set(origin, new Map());
    return this.jars.get(origin)!;
  }
}

export async function send(
  jar: CookieJar,
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<ConsoleResponse> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    redirect: 'manual',
    headers: { ...init.headers, cookie: jar.header(url) },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const setCookies = res.headers.getSetCookie();
  jar.store(url, setCookies);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* HTML or empty */
  }
  return { status: res.status, body, headers: res.headers, setCookies };
}

/** Follows redirects (303/302) from `url`, returning the first answer that is not a redirect to `stopAt`. */
export async function follow(jar: CookieJar, url: string, stopAt?: (u: string) => boolean) {
  let current = url;
  for (let hops = 0; hops < 10; hops++) {
    if (stopAt?.(current)) return { url: current, res: undefined };
    const res = await send(jar, current);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) return { url: current, res };
    current = new URL(location, current).href;
  }
  throw new Error('too many redirects');
}

/**
 * Signs `login` in through the console: /console/auth/login → the provider's login form → back to the
 * broker's callback. Returns the callback's answer (a 303 to the console with the session cookie).
 */
export async function signInThroughProvider(
  jar: CookieJar,
  brokerUrl: string,
  login: string,
  o: { beforeCallback?: (callbackUrl: string) => string } = {},
): Promise<ConsoleResponse> {
  const isCallback = (u: string) => u.startsWith(`${brokerUrl}/console/auth/callback`);
  const page = await follow(jar, `${brokerUrl}/console/auth/login`, isCallback);
  if (!page.res || typeof page.res.body !== 'string') throw new Error('expected the provider login page');
  const action = /action="([^"]+)"/.exec(page.res.body)?.[1];
  if (!action) throw new Error('no login form on the provider page');
  const submitted = await send(jar, new URL(action.replace(/&amp;/g, '&'), page.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ prompt: 'login', login, password: 'any' }).toString(),
  });
  const next = new URL(submitted.headers.get('location')!, page.url).href;
  const back = await follow(jar, next, isCallback);
  const callback = o.beforeCallback ? o.beforeCallback(back.url) : back.url;
  return send(jar, callback);
}

/** Calls the console API with the session cookie and (for state changes) the CSRF token. */
export async function consoleApi(
  jar: CookieJar,
  brokerUrl: string,
  method: string,
  path: string,
  o: { body?: unknown; csrf?: string | false; headers?: Record<string, string> } = {},
): Promise<ConsoleResponse> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  if (o.csrf) headers['x-csrf-token'] = o.csrf;
  return send(jar, `${brokerUrl}/console/api${path}`, {
    method,
    headers,
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
}
