import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Actor, Principal } from '../../identity';
import { NotFound, Unauthenticated } from '../../shared/errors';

/** A route handler: express 5 passes a rejected promise to the error mapper. */
export type Handler = (req: Request, res: Response) => Promise<void> | void;

const uuid = z.string().uuid();

/** Path ids are UUIDs; anything else cannot name a resource, so it is a plain 404. */
export function idParam(req: Request, name = 'id'): string {
  const value = req.params[name];
  if (!uuid.safeParse(value).success) throw new NotFound(`no such ${name === 'id' ? 'resource' : name}`);
  return value as string;
}

export function principalOf(req: Request): Principal {
  if (!req.principal) throw new Unauthenticated('authentication required', 'missing_credential');
  return req.principal;
}

/** Who calls a read that workloads and people share: the SVID's workload, or the console's person. */
export function actorOf(req: Request): Actor {
  const actor = req.principal ?? req.human;
  if (!actor) throw new Unauthenticated('authentication required', 'missing_credential');
  return actor;
}
