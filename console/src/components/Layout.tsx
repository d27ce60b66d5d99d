import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import { api } from '../lib/api';
import { hasRole, useSession } from '../lib/session';

async function signOut() {
  await api.post('/sign-out').catch(() => undefined);
  window.location.assign('/console/');
}

export function Layout({ children }: { children: ReactNode }) {
  const session = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Grantline console</span>
        <nav aria-label="Console">
          <ul>
            {hasRole(session, 'auditor') && (
              <li>
                <NavLink to="/tasks">Tasks</NavLink>
              </li>
            )}
            {hasRole(session, 'auditor') && (
              <li>
                <NavLink to="/audit">Audit log</NavLink>
              </li>
            )}
            {(hasRole(session, 'approver') || hasRole(session, 'auditor')) && (
              <li>
                <NavLink to="/approvals">Approvals</NavLink>
              </li>
            )}
          </ul>
        </nav>
        <div className="who">
          <span title={`${session.issuer} · ${session.subject}`}>
            {session.name} <span className="roles">({session.roles.join(', ') || 'no role'})</span>
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
