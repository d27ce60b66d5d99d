import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { Failure, Loading } from '../components/Status';
import { api, q } from '../lib/api';
import { safeText, shortId, when, workloadName } from '../lib/safe-text';
import type { AuditEvent } from '../lib/types';

const PAGE = 100;

/** A one-line reading of an event's payload for the table (the whole payload is one click away). */
function gist(e: AuditEvent): string {
  const p = e.payload;
  const keys = ['decision', 'action', 'scope', 'scopes', 'reason', 'approver', 'via', 'policy_ids'];
  return keys
    .filter((k) => p[k] !== undefined && p[k] !== null)
    .map((k) => `${k}: ${Array.isArray(p[k]) ? (p[k] as unknown[]).join(' ') : String(p[k])}`)
    .join(' · ');
}

/** The audit log in leaf order (each event is a leaf of the signed Merkle tree), paged by leaf index. */
export function AuditPage() {
  const [params, setParams] = useSearchParams();
  const task = params.get('task') ?? '';
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [next, setNext] = useState<number | undefined>();
  const [done, setDone] = useState(false);
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);

  const load = async (after: number | undefined, reset: boolean) => {
    setLoading(true);
    try {
      const page = await api.get<{ events: AuditEvent[]; next: number | null }>(
        `/audit/events${q({ task: task || undefined, after, limit: PAGE })}`,
      );
      setEvents((prev) => (reset ? page.events : [...prev, ...page.events]));
      setNext(page.next ?? undefined);
      setDone(page.events.length < PAGE);
      setError(undefined);
    } catch (err) {
      setError(err as Error);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    load(undefined, true);
  }, [task]);

  return (
    <section aria-labelledby="audit-title">
      <div className="page-head">
        <h1 id="audit-title">Audit log</h1>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const value = new FormData(e.currentTarget).get('task');
            setParams(value ? { task: String(value) } : {});
          }}
        >
          <label>
            Task id <input name="task" defaultValue={task} size={38} pattern="[0-9a-fA-F-]{36}" />
          </label>{' '}
          <button type="submit">Filter</button>
        </form>
      </div>
      <Failure error={error} />
      <table className="grid audit">
        <caption className="visually-hidden">Audit events in leaf order</caption>
        <thead>
          <tr>
            <th scope="col">Leaf</th>
            <th scope="col">At</th>
            <th scope="col">Event</th>
            <th scope="col">Principal</th>
            <th scope="col">Task / grant</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.leaf_index} data-leaf={e.leaf_index}>
              <td className="num">{e.leaf_index}</td>
              <td>{when(e.at)}</td>
              <td>{e.type}</td>
              <td title={e.principal ?? ''}>{e.principal ? workloadName(e.principal) : '–'}</td>
              <td title={`${e.task_id ?? ''} ${e.grant_id ?? ''}`}>
                {shortId(e.task_id)} / {shortId(e.grant_id)}
              </td>
              <td>
                <details>
                  <summary>{safeText(gist(e)) || 'payload'}</summary>
                  <pre>{safeText(JSON.stringify(e.payload, null, 2))}</pre>
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {loading && <Loading what="events" />}
      {!loading && !done && (
        <button type="button" onClick={() => load(next, false)}>
          Load more
        </button>
      )}
    </section>
  );
}
