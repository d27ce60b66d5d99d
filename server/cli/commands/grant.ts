import type { Command } from 'commander';
import type { BrokerClient } from '../broker-client';
import { collect, parseCount, parseDuration } from '../cli-args';
import { out, outLines, printJson } from '../cli-output';
import { type ClientOptions, clientAction, clientFrom, withClientOptions } from '../client-options';
import {
  type DelegationOfferJson,
  type GrantJson,
  type RevokeJson,
  renderGrant,
  renderOffer,
  renderRevoke,
} from '../grant-render';

/** RFC 8693 §2.1 parameter values. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

const id = (s: string) => encodeURIComponent(s);

export interface RequestGrantOptions extends ClientOptions {
  scope: string[];
  audience: string;
  ttl?: number;
  tool?: string;
  target?: string;
  intent?: string;
  quiet?: boolean;
}

export function grantRequestBody(o: RequestGrantOptions): Record<string, unknown> {
  const context = Object.fromEntries(
    Object.entries({ tool: o.tool, target: o.target, intent: o.intent }).filter(([, v]) => v !== undefined),
  );
  return { scopes: o.scope, audience: o.audience, ...(o.ttl !== undefined ? { ttl: o.ttl } : {}), context };
}

export interface DelegateOptions extends ClientOptions {
  to: string;
  scope: string[];
  ttl?: number;
  budget?: number;
  redelegate: boolean;
  quiet?: boolean;
}

export function delegationBody(o: DelegateOptions): Record<string, unknown> {
  return {
    to: o.to,
    scopes: o.scope,
    ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
    ...(o.budget !== undefined ? { budget: o.budget } : {}),
    may_redelegate: o.redelegate,
  };
}

/**
 * Redeems a delegation offer (RFC 8693 token exchange): the offer is the subject token, the caller's own
 * JWT-SVID the actor token, so this hop re-authenticates as the SPIFFE ID the offer is bound to.
 */
export async function redeemDelegation(
  client: BrokerClient,
  delegationToken: string,
  opts: { scopes?: string[]; audience?: string } = {},
): Promise<GrantJson> {
  const form: Record<string, string> = {
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: delegationToken,
    subject_token_type: JWT_TOKEN_TYPE,
    actor_token: await client.svid(),
    actor_token_type: JWT_TOKEN_TYPE,
  };
  if (opts.scopes?.length) form.scope = opts.scopes.join(' ');
  if (opts.audience) form.audience = opts.audience;
  return client.postForm<GrantJson>('/oauth2/token', form);
}

function printGrant(g: GrantJson, o: ClientOptions & { quiet?: boolean }): void {
  if (o.json || o.quiet) printJson(g);
  else outLines(renderGrant(g));
}

function registerRequest(grant: Command): void {
  withClientOptions(
    grant
      .command('request <task-id>')
      .description('request a grant in a task; prints the access token and the secrets')
      .requiredOption('--scope <scope>', 'a scope to grant (repeatable)', collect)
      .requiredOption('--audience <aud>', 'the resource server the access token is for')
      .option(
        '--ttl <duration>',
        'grant lifetime, e.g. 5m (capped by the broker and the task)',
        parseDuration,
      )
      .option('--tool <name>', 'context: the tool that will use it')
      .option('--target <name>', 'context: what it will act on')
      .option('--intent <text>', 'context: why')
      .option('-q, --quiet', 'print only the JSON response'),
  ).action(
    clientAction(async (taskId: string, o: RequestGrantOptions) => {
      printGrant(
        await clientFrom(o).postJson<GrantJson>(`/v1/tasks/${id(taskId)}/grants`, grantRequestBody(o)),
        o,
      );
    }),
  );
}

function registerRevoke(grant: Command): void {
  withClientOptions(
    grant
      .command('revoke <grant-id>')
      .description('revoke a grant and its whole delegation subtree')
      .option('--reason <text>', 'why (recorded in the audit log)'),
  ).action(
    clientAction(async (grantId: string, o: ClientOptions & { reason?: string }) => {
      const body = o.reason ? { reason: o.reason } : {};
      const r = await clientFrom(o).postJson<RevokeJson>(`/v1/grants/${id(grantId)}/revoke`, body);
      if (o.json) printJson(r);
      else outLines(renderRevoke(r));
    }),
  );
}

function registerDelegation(grant: Command): void {
  withClientOptions(
    grant
      .command('delegate <grant-id>')
      .description('offer a narrower grant to another workload; prints the single-use delegation token')
      .requiredOption('--to <spiffe-id>', 'the workload the offer is bound to')
      .requiredOption('--scope <scope>', 'a scope to delegate (repeatable)', collect)
      .option('--ttl <duration>', 'lifetime of the delegated grant, e.g. 5m', parseDuration)
      .option('--budget <n>', 'budget reserved for the delegate', parseCount)
      .option('--no-redelegate', 'forbid the delegate to delegate further')
      .option('-q, --quiet', 'print only the delegation token'),
  ).action(
    clientAction(async (grantId: string, o: DelegateOptions) => {
      const offer = await clientFrom(o).postJson<DelegationOfferJson>(
        `/v1/grants/${id(grantId)}/delegations`,
        delegationBody(o),
      );
      if (o.json) printJson(offer);
      else if (o.quiet) out(offer.delegation_token);
      else outLines(renderOffer(offer));
    }),
  );
  withClientOptions(
    grant
      .command('redeem <delegation-token>')
      .description('redeem a delegation offer with your own SVID (RFC 8693 token exchange)')
      .option('--scope <scope>', 'ask for fewer scopes than offered (repeatable)', collect)
      .option('--audience <aud>', 'the resource server the access token is for')
      .option('-q, --quiet', 'print only the JSON response'),
  ).action(
    clientAction(
      async (token: string, o: ClientOptions & { scope?: string[]; audience?: string; quiet?: boolean }) => {
        const g = await redeemDelegation(clientFrom(o), token, {
          ...(o.scope ? { scopes: o.scope } : {}),
          ...(o.audience ? { audience: o.audience } : {}),
        });
        printGrant(g, o);
      },
    ),
  );
}

/** `grantline grant request|revoke|delegate|redeem`. Actions are async: use parseAsync. */
export function registerGrantCommands(program: Command): void {
  const grant = program.command('grant').description('request, delegate, redeem and revoke grants');
  registerRequest(grant);
  registerRevoke(grant);
  registerDelegation(grant);
}
