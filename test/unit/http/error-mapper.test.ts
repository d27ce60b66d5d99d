import { toHttpError } from '../../../server/http/error-mapper';
import * as errors from '../../../server/shared/errors';
import {
  AccessDenied,
  ERROR_STATUS,
  type GrantlineError,
  QuotaExceeded,
  Unauthenticated,
  Unavailable,
  UpstreamError,
} from '../../../server/shared/errors';

/** One instance of every error class `shared/errors.ts` exports. */
function oneOfEachClass(): GrantlineError[] {
  const classes = Object.values(errors as Record<string, unknown>).filter(
    (v) => typeof v === 'function' && v !== errors.GrantlineError,
  ) as Array<new (...a: unknown[]) => GrantlineError>;
  return classes.map((Class) => new Class('m', 'r'));
}

describe('the closed list of error codes', () => {
  test('when every code is listed, then exactly one class answers with it, at its status', () => {
    const instances = oneOfEachClass();
    const codes = instances.map((e) => e.code).sort();
    expect(codes).toEqual(Object.keys(ERROR_STATUS).sort());
    for (const e of instances) {
      expect(e.status).toBe(ERROR_STATUS[e.code]);
      expect(toHttpError(e).status).toBe(ERROR_STATUS[e.code]);
    }
  });

  test('when a 4xx is mapped, then the body names its code; 401s carry WWW-Authenticate', () => {
    for (const e of oneOfEachClass().filter((x) => x.status < 500)) {
      const out = toHttpError(e);
      expect(out.body.error).toBe(e.code);
      expect(Boolean(out.headers['WWW-Authenticate'])).toBe(e.status === 401);
    }
  });
});

describe('the error mapper', () => {
  test('when an unknown error escapes, then the body is a fixed 500 with no message and no stack', () => {
    const out = toHttpError(new Error('connection string postgres://u:secret@db failed at line 42'));
    expect(out).toEqual({
      status: 500,
      body: { error: 'server_error', error_description: 'internal error' },
      headers: {},
    });
  });

  test('when authentication fails, then it is 401 with WWW-Authenticate and the reason', () => {
    const out = toHttpError(new Unauthenticated('the SVID expired', 'expired'));
    expect(out.status).toBe(401);
    expect(out.body).toEqual({
      error: 'invalid_token',
      error_description: 'the SVID expired',
      reason: 'expired',
    });
    expect(out.headers['WWW-Authenticate']).toContain('error="invalid_token"');
  });

  test('when typed errors carry details, then they appear beside the code', () => {
    expect(toHttpError(new QuotaExceeded('budget', 'no budget left')).body).toEqual({
      error: 'quota_exceeded',
      error_description: 'no budget left',
      limit: 'budget',
    });
    expect(toHttpError(new AccessDenied('denied', { policy_ids: ['p'] })).body).toMatchObject({
      error: 'access_denied',
      policy_ids: ['p'],
    });
  });

  test('when a dependency is down, then it is 503 with Retry-After', () => {
    const out = toHttpError(new Unavailable('Vault is down'));
    expect(out.status).toBe(503);
    expect(out.headers['Retry-After']).toBe('5');
  });

  test('when the database is unreachable, then it is 503, not 500', () => {
    expect(
      toHttpError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))
        .status,
    ).toBe(503);
    expect(
      toHttpError(
        Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      ).status,
    ).toBe(503);
  });

  test('when a 5xx error carries internals, then the body says only what kind of failure it was', () => {
    const out = toHttpError(new UpstreamError('Vault denied auth/token/create for accessor abc'));
    expect(out.body).toEqual({ error: 'server_error', error_description: 'internal error' });
    const down = toHttpError(
      new Unavailable('Vault is unavailable (createChildToken secret/data/grantline/custody/x)'),
    );
    expect(JSON.stringify(down.body)).not.toContain('custody');
    expect(down.body.error).toBe('unavailable');
  });

  test('when express reports body problems, then they become 413 and 400', () => {
    expect(toHttpError({ type: 'entity.too.large' }).status).toBe(413);
    expect(toHttpError({ type: 'entity.parse.failed' }).status).toBe(400);
    expect(toHttpError({ type: 'parameters.too.many', status: 413 }).status).toBe(413);
  });

  test('when express rejects a malformed request (e.g. bad percent-encoding), then it is a 400, not a 500', () => {
    const decodeFailure = Object.assign(new URIError('Failed to decode param'), {
      status: 400,
      expose: true,
    });
    expect(toHttpError(decodeFailure)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});
