import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { UsageCall, UsageResult } from '../client/types';
import { BrokerError } from '../errors';

export interface UsageMeterOptions {
  /** How often the queued calls are sent (default 100 ms): the longest a spent share can stay unnoticed. */
  flushIntervalMs?: number;
  /** Calls per report at most (default 500); a full batch is sent at once. */
  maxBatch?: number;
  /** Calls kept while the broker cannot be reached (default 10,000); beyond that the oldest are dropped. */
  maxQueued?: number;
}

export interface UsageMeter extends EventEmitter {
  /** Queues one call made with the grant's token; it is reported with the next batch. */
  record(grantId: string, call?: { cost?: number; tool?: string; at?: Date }): void;
  /** Sends everything queued now (also what a failed report left). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

interface Batch {
  grantId: string;
  reportId: string;
  calls: UsageCall[];
}

type Report = (grantId: string, calls: UsageCall[], o: { reportId: string }) => Promise<UsageResult>;

/**
 * Batches tool-call reports per grant (`POST /v1/grants/:id/usage`). A batch keeps its report id until the
 * broker answered, so sending it again after a lost answer counts it once. When an answer says grants
 * were revoked (their share of actions is spent), `revoked` is emitted with their ids at once, before
 * the revocation feed brings the same news. Events: `revoked` (ids), `error` (a report that failed and
 * will be sent again, or was dropped).
 */
export function createUsageMeter(report: Report, o: UsageMeterOptions = {}): UsageMeter {
  const maxBatch = o.maxBatch ?? 500;
  const maxQueued = o.maxQueued ?? 10_000;
  const meter = new EventEmitter() as UsageMeter;
  const queued = new Map<string, UsageCall[]>();
  let retrying: Batch[] = [];
  let sending: Promise<void> | undefined;
  let total = 0;

  const send = async (batch: Batch): Promise<boolean> => {
    try {
      const result = await report(batch.grantId, batch.calls, { reportId: batch.reportId });
      if (result.revoked.length) meter.emit('revoked', result.revoked);
      return true;
    } catch (err) {
      // The grant is gone (409) or unknown to us (404): nothing to count any more.
      if (err instanceof BrokerError && err.status < 500 && err.status !== 429) {
        if (err.status === 409 && err.details.grant_status) meter.emit('revoked', [batch.grantId]);
        meter.emit('error', err);
        return true;
      }
      meter.emit('error', err);
      return false;
    }
  };

  const drain = async () => {
    const batches = retrying;
    for (const [grantId, calls] of queued)
      for (let i = 0; i < calls.length; i += maxBatch)
        batches.push({ grantId, reportId: randomUUID(), calls: calls.slice(i, i + maxBatch) });
    queued.clear();
    retrying = [];
    total = 0;
    const failed = (await Promise.all(batches.map(async (b) => ((await send(b)) ? [] : [b])))).flat();
    retrying = failed.concat(retrying);
    total += retrying.reduce((n, b) => n + b.calls.length, 0);
  };

  meter.flush = () => {
    sending ??= drain().finally(() => {
      sending = undefined;
    });
    return sending;
  };

  const timer = setInterval(() => {
    if (queued.size || retrying.length) void meter.flush();
  }, o.flushIntervalMs ?? 100);
  timer.unref();
  meter.on('error', () => undefined);

  meter.record = (grantId, call = {}) => {
    const calls = queued.get(grantId) ?? [];
    calls.push({
      cost: call.cost ?? 1,
      at: (call.at ?? new Date()).toISOString(),
      ...(call.tool ? { tool: call.tool } : {}),
    });
    queued.set(grantId, calls);
    if (++total > maxQueued) {
      calls.shift();
      total--;
      meter.emit('error', new Error('usage reports are not getting through: the oldest call was dropped'));
    }
    if (calls.length >= maxBatch) void meter.flush();
  };

  meter.close = async () => {
    clearInterval(timer);
    await sending;
    await meter.flush();
  };
  return meter;
}
