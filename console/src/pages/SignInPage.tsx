export function SignInPage({ reason }: { reason: string }) {
  const returnTo = window.location.pathname.startsWith('/console') ? window.location.pathname : '/console/';
  return (
    <main id="main" className="sign-in">
      <h1>Grantline console</h1>
      {reason === 'not_configured' ? (
        <p>
          Sign-in is not configured on this broker. Set <code>GRANTLINE_CONSOLE_OIDC_ISSUER</code> (see the
          README), or on a development machine run <code>npx grantline console</code> for a one-time link.
        </p>
      ) : (
        <>
          <p>Auditors trace credentials to their task and approver; approvers decide privileged requests.</p>
          <a
            className="button primary"
            href={`/console/auth/login?return_to=${encodeURIComponent(returnTo)}`}
          >
            Sign in
          </a>
        </>
      )}
    </main>
  );
}
