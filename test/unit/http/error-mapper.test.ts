import { toHttpError } from '../../../server/http/error-mapper';
import {
  AccessDenied,
  GrantlineError,
  QuotaExceeded,
  Unauthenticated,
  Unavailable,
} from '../../../server/shared/errors';

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
    const out = toHttpError(
      new GrantlineError('vault_denied', 502, 'Vault denied auth/token/create for accessor abc'),
    );
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
