import { Navigate, Route, Routes } from 'react-router';
import { Layout } from './components/Layout';
import { hasRole, SessionGate, useSession } from './lib/session';
import { ApprovalsPage } from './pages/ApprovalsPage';
import { AuditPage } from './pages/AuditPage';
import { SignInPage } from './pages/SignInPage';
import { TaskPage } from './pages/TaskPage';
import { TasksPage } from './pages/TasksPage';

function Home() {
  const session = useSession();
  if (hasRole(session, 'auditor')) return <Navigate to="/tasks" replace />;
  if (hasRole(session, 'approver')) return <Navigate to="/approvals" replace />;
  return (
    <section aria-labelledby="no-role">
      <h1 id="no-role">No console role</h1>
      <p>
        You are signed in as {session.name}, but your identity provider gives you neither the auditor nor the
        approver role. Ask an administrator to add you to the groups Grantline maps to a role.
      </p>
    </section>
  );
}

export function App() {
  return (
    <SessionGate
      loading={<p aria-busy="true">Loading the console…</p>}
      signedOut={(reason) => <SignInPage reason={reason} />}
    >
      <Layout>
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/tasks" element={<TasksPage />} />
          <Route path="/tasks/:id" element={<TaskPage />} />
          <Route path="/audit" element={<AuditPage />} />
          <Route path="/approvals" element={<ApprovalsPage />} />
          <Route path="*" element={<Navigate to="/" replace />} />
        </Routes>
      </Layout>
    </SessionGate>
  );
}
