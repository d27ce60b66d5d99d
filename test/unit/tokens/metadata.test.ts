import { authorizationServerMetadata } from '../../../server/tokens/metadata';
import { TokenConfigError } from '../../../server/tokens/token.errors';

describe('authorization server metadata', () => {
  it('when built for an issuer, then it lists the endpoints and capabilities of RFC 8414', () => {
    expect(authorizationServerMetadata('https://grantline.example')).toEqual({
      issuer: 'https://grantline.example',
      token_endpoint: 'https://grantline.example/oauth2/token',
      jwks_uri: 'https://grantline.example/.well-known/jwks.json',
      introspection_endpoint: 'https://grantline.example/oauth2/introspect',
      revocation_endpoint: 'https://grantline.example/oauth2/revoke',
      response_types_supported: [],
      grant_types_supported: ['urn:ietf:params:oauth:grant-type:token-exchange'],
      token_endpoint_auth_methods_supported: ['tls_client_auth'],
      introspection_endpoint_auth_methods_supported: ['tls_client_auth'],
      revocation_endpoint_auth_methods_supported: ['tls_client_auth'],
      tls_client_certificate_bound_access_tokens: true,
      authorization_response_iss_parameter_supported: true,
    });
  });

  it('when scopes and auth methods are passed, then they are published', () => {
    const meta = authorizationServerMetadata('https://grantline.example/broker', {
      scopesSupported: ['db:orders:read'],
      authMethods: ['tls_client_auth', 'private_key_jwt'],
    });

    expect(meta.token_endpoint).toBe('https://grantline.example/broker/oauth2/token');
    expect(meta.scopes_supported).toEqual(['db:orders:read']);
    expect(meta.revocation_endpoint_auth_methods_supported).toEqual(['tls_client_auth', 'private_key_jwt']);
  });

  it.each([
    'https://grantline.example/',
    'https://grantline.example?tenant=1',
    'https://grantline.example#x',
    'ftp://grantline.example',
    'grantline.example',
  ])('when the issuer is %s, then it is refused', (issuer) => {
    expect(() => authorizationServerMetadata(issuer)).toThrow(TokenConfigError);
  });
});
