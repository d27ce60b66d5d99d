import fc from 'fast-check';
import { badBodies, rawBodies } from './body-cases';
import {
  BODY_TEMPLATES,
  type Fixture,
  idNamingNothing,
  PARAM_ROUTE_CALLERS,
  paramRoutes,
  QUERY_TEMPLATES,
} from './route-templates';
import type { FaultCase } from './run-cases';
import {
  badAuthorizationHeaders,
  badSvidSpecs,
  buildSvid,
  oversizeHeaders,
  type SvidKeys,
} from './svid-cases';

/** How many cases of each kind one run generates (10,600 in all). */
export const COUNTS = {
  svidAsBearer: 3000,
  badAuthorizationHeader: 300,
  oversizeHeader: 100,
  svidAsActorToken: 1000,
  bodyPerRoute: 500,
  rawBody: 1000,
  pathId: 400,
  query: 300,
};

export interface CaseContext {
  fixture: Fixture;
  keys: SvidKeys;
  /** Valid JWT-SVIDs of the callers the templates name. */
  svids: Record<string, string>;
  seed: number;
}

const sample = <T>(arb: fc.Arbitrary<T>, n: number, seed: number): T[] =>
  fc.sample(arb, { numRuns: n, seed });
const bearer = (svid: string) => ({ authorization: `Bearer ${svid}` });
const json = (value: unknown) => ({ 'content-type': 'application/json', body: JSON.stringify(value) });

/** Refused SVIDs presented as the caller's credential on a valid grant request: 401 every time. */
function svidCases(ctx: CaseContext): FaultCase[] {
  const grants = BODY_TEMPLATES['POST /v1/tasks/:id/grants']!;
  const { body, ...type } = json(grants.body(ctx.fixture));
  const request = (category: string, kind: string, authorization: string): FaultCase => ({
    category,
    kind,
    method: 'POST',
    path: grants.path(ctx.fixture),
    headers: { ...type, authorization },
    body,
    status: 401,
  });
  return [
    ...sample(badSvidSpecs(ctx.keys), COUNTS.svidAsBearer, ctx.seed).map((spec) =>
      request(`SVID: ${spec.category}`, spec.category, `Bearer ${buildSvid(spec, ctx.keys)}`),
    ),
    ...sample(badAuthorizationHeaders, COUNTS.badAuthorizationHeader, ctx.seed + 1).map((h) =>
      request('Authorization header', 'no usable credential', h),
    ),
    ...sample(oversizeHeaders, COUNTS.oversizeHeader, ctx.seed + 6).map((h) => ({
      ...request('oversize header', 'beyond 16 KiB of headers', h),
      status: 431,
    })),
  ];
}

/** Refused SVIDs as the RFC 8693 actor_token of a redemption by the workload the offer names: 400. */
function actorTokenCases(ctx: CaseContext): FaultCase[] {
  const token = BODY_TEMPLATES['POST /oauth2/token']!;
  return sample(badSvidSpecs(ctx.keys), COUNTS.svidAsActorToken, ctx.seed + 2).map((spec) => ({
    category: `actor_token: ${spec.category}`,
    kind: spec.category,
    method: 'POST',
    path: token.path(ctx.fixture),
    headers: { ...bearer(ctx.svids[token.as]!), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      ...(token.body(ctx.fixture) as Record<string, string>),
      actor_token: buildSvid(spec, ctx.keys),
    }).toString(),
    status: 400,
  }));
}

/** For every body-taking route: bodies its schema refuses, then bodies broken below the schema. */
function bodyCases(ctx: CaseContext): FaultCase[] {
  const routes = Object.entries(BODY_TEMPLATES);
  const perRoute = routes.flatMap(([name, t], i) =>
    sample(badBodies(t, ctx.fixture), COUNTS.bodyPerRoute, ctx.seed + 10 + i).map(({ kind, body }) => ({
      category: `body: ${name}`,
      kind,
      method: 'POST',
      path: t.path(ctx.fixture),
      headers: { ...bearer(ctx.svids[t.as]!), 'content-type': body.contentType },
      body: body.payload,
    })),
  );
  const raw = sample(fc.tuple(fc.constantFrom(...routes), rawBodies), COUNTS.rawBody, ctx.seed + 3).map(
    ([[name, t], { kind, body, headers }]) => ({
      category: `raw body: ${kind.split(' ')[0]}`,
      kind: `${name}: ${kind}`,
      method: 'POST',
      path: t.path(ctx.fixture),
      headers: { ...bearer(ctx.svids[t.as]!), 'content-type': body.contentType, ...headers },
      body: body.payload,
    }),
  );
  return [...perRoute, ...raw];
}

const badId = fc.oneof(
  fc.uuid(),
  fc.string({ minLength: 1, maxLength: 60 }).map(encodeURIComponent),
  fc.constantFrom('..', '%2e%2e', '%00', '00000000-0000-0000-0000-000000000000', 'null', '-1', '%ZZ'),
);

/** Path parameters that name nothing, on every route that has one (POSTs with a valid body): 4xx. */
function pathCases(ctx: CaseContext): FaultCase[] {
  const posts = Object.entries(BODY_TEMPLATES).filter(([name]) => name.includes(':'));
  const gets = paramRoutes().map((name) => [name, PARAM_ROUTE_CALLERS[name]!] as const);
  return sample(fc.tuple(fc.nat(), badId), COUNTS.pathId, ctx.seed + 4).map(([n, id]) => {
    const all = [...posts.map(([name]) => name), ...gets.map(([name]) => name)];
    const name = all[n % all.length]!;
    const [method, template] = name.split(' ') as [string, string];
    const post = BODY_TEMPLATES[name];
    const as = post ? post.as : PARAM_ROUTE_CALLERS[name]!;
    const body = post ? json(post.body(ctx.fixture)) : undefined;
    return {
      category: 'path id',
      kind: name,
      method,
      path: template.replace(/:[A-Za-z_]+/g, idNamingNothing(name, id)),
      headers: { ...bearer(ctx.svids[as]!), ...(body ? { 'content-type': body['content-type'] } : {}) },
      ...(body ? { body: body.body } : {}),
    };
  });
}

/** Strictly validated queries with an unknown parameter, or `limit` (known to all) ill-typed: 400. */
function queryCases(ctx: CaseContext): FaultCase[] {
  const routes = Object.entries(QUERY_TEMPLATES);
  const illTypedLimit = fc.constantFrom(
    'abc',
    '-1',
    '0',
    '',
    '1e999',
    '1.5',
    '1001',
    '\u0000',
    'x'.repeat(3000),
  );
  const query = fc.oneof(
    fc
      .tuple(fc.stringMatching(/^[a-z_]{1,12}$/), fc.string({ maxLength: 20 }))
      .map(([k, v]) => [`zz_${k}`, v] as const),
    illTypedLimit.map((v) => ['limit', v] as const),
  );
  return sample(fc.tuple(fc.constantFrom(...routes), query), COUNTS.query, ctx.seed + 5).map(
    ([[name, t], [k, v]]) => ({
      category: 'query',
      kind: `${name}: ${k}`,
      method: 'GET',
      path: `${t.path(ctx.fixture)}?${new URLSearchParams({ [k]: v }).toString()}`,
      headers: { ...bearer(ctx.svids[t.as]!), accept: 'application/json' },
      status: 400,
    }),
  );
}

/** Every generated case of one run, in a shuffled but seed-determined order. */
export function buildCases(ctx: CaseContext): FaultCase[] {
  const cases = [
    ...svidCases(ctx),
    ...actorTokenCases(ctx),
    ...bodyCases(ctx),
    ...pathCases(ctx),
    ...queryCases(ctx),
  ];
  const order = sample(
    fc.shuffledSubarray(
      cases.map((_, i) => i),
      { minLength: cases.length },
    ),
    1,
    ctx.seed,
  )[0]!;
  return order.map((i) => cases[i]!);
}
