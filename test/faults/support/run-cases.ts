import pMap from 'p-map';
import { ERROR_STATUS, type ErrorCode } from '../../../server/shared/errors';

/** One generated request and the answer it must get. */
export interface FaultCase {
  category: string;
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** The exact status when it is known (401 for a refused SVID); otherwise any 4xx. */
  status?: number;
}

export interface FaultReport {
  cases: number;
  byCategory: Record<string, number>;
  byStatus: Record<string, number>;
  serverErrors: number;
  /** Answers that were not a clear 4xx in the error shape (the first 25 are kept in `failures`). */
  failed: number;
  /** How many cases failed for each category and problem. */
  problems: Record<string, number>;
  failures: Array<{ category: string; kind: string; method: string; path: string; problem: string }>;
}

/**
 * Node's HTTP parser answers requests it cannot parse (headers over 16 KiB) before express sees them;
 * the broker still gives those the error shape (server/wiring/http-server.ts), with status 431.
 */
const PARSER_STATUSES: Record<number, ErrorCode> = { 431: 'invalid_request' };

/** What is wrong with an answer to bad input (undefined when it is a clear 4xx in DESIGN's error shape). */
function problemWith(c: FaultCase, status: number, contentType: string, text: string): string | undefined {
  if (status < 400 || status > 499) return `status ${status}`;
  if (c.status !== undefined && status !== c.status) return `status ${status}, expected ${c.status}`;
  if (!contentType.includes('application/json')) return `content-type ${contentType || 'none'}`;
  let body: { error?: unknown; error_description?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    return 'the body is not JSON';
  }
  const code = body.error as ErrorCode;
  const expected = PARSER_STATUSES[status] === code ? status : ERROR_STATUS[code];
  if (expected !== status) return `error ${String(body.error)} does not go with status ${status}`;
  if (typeof body.error_description !== 'string' || body.error_description.length === 0)
    return 'no error_description';
  if (/\n\s+at |node_modules/.test(text)) return 'the body carries a stack trace';
  return undefined;
}

async function send(baseUrl: string, c: FaultCase): Promise<{ status: number; type: string; text: string }> {
  try {
    const res = await fetch(`${baseUrl}${c.path}`, {
      method: c.method,
      headers: c.headers,
      ...(c.body !== undefined ? { body: c.body } : {}),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  } catch (err) {
    // A connection the broker closed without an answer: not a clear 4xx either.
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    return {
      status: 0,
      type: '',
      text: `no answer: ${(err as Error).message} ${cause?.code ?? ''} ${cause?.message ?? ''}`,
    };
  }
}

/** Sends every case (a few at a time) and collects what was answered and what was wrong. */
export async function runCases(baseUrl: string, cases: FaultCase[], concurrency = 8): Promise<FaultReport> {
  const report: FaultReport = {
    cases: 0,
    byCategory: {},
    byStatus: {},
    serverErrors: 0,
    failed: 0,
    problems: {},
    failures: [],
  };
  await pMap(
    cases,
    async (c) => {
      const answer = await send(baseUrl, c);
      report.cases += 1;
      report.byCategory[c.category] = (report.byCategory[c.category] ?? 0) + 1;
      report.byStatus[answer.status] = (report.byStatus[answer.status] ?? 0) + 1;
      if (answer.status >= 500) report.serverErrors += 1;
      const problem = problemWith(c, answer.status, answer.type, answer.text);
      if (!problem) return;
      report.failed += 1;
      const key = `${c.category}: ${problem.replace(/no answer: .*/, 'no answer')}`;
      report.problems[key] = (report.problems[key] ?? 0) + 1;
      if (report.failures.length < 25)
        report.failures.push({
          category: c.category,
          kind: c.kind,
          method: c.method,
          path: c.path.slice(0, 120),
          problem: `${problem}: ${answer.text.slice(0, 160)}`,
        });
    },
    { concurrency },
  );
  return report;
}
