import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import { ApiError, api, rememberCsrf } from './api';
import type { Role, SessionInfo } from './types';

type SessionState =
  | { kind: 'loading' }
  | { kind: 'signed-out'; reason: string }
  | { kind: 'signed-in'; session: SessionInfo }
  | { kind: 'error'; message: string };

const SessionContext = createContext<SessionInfo | undefined>(undefined);

export function useSession(): SessionInfo {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in console');
  return s;
}

export const hasRole = (s: SessionInfo, role: Role): boolean => s.roles.includes(role);

/** Loads the session; without one, `signedOut` is drawn instead of the console. */
export function SessionGate(props: {
  children: ReactNode;
  signedOut: (reason: string) => ReactNode;
  loading: ReactNode;
}) {
  const [state, setState] = useState<SessionState>({ kind: 'loading' });
  useEffect(() => {
    api.get<SessionInfo>('/session').then(
      (session) => {
        rememberCsrf(session.csrf_token);
        setState({ kind: 'signed-in', session });
      },
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 401)
          setState({ kind: 'signed-out', reason: String(err.body.reason ?? 'no_session') });
        else setState({ kind: 'error', message: (err as Error).message });
      },
    );
  }, []);
  if (state.kind === 'loading') return <>{props.loading}</>;
  if (state.kind === 'signed-out') return <>{props.signedOut(state.reason)}</>;
  if (state.kind === 'error') return <p role="alert">The console could not start: {state.message}</p>;
  return <SessionContext.Provider value={state.session}>{props.children}</SessionContext.Provider>;
}
