/**
 * `SPIFFE_ENDPOINT_SOCKET` → a grpc-js target (SPIFFE Workload Endpoint §4): `unix:///abs/path` (or
 * `unix:/abs/path`) for a Unix domain socket, `tcp://IP:port` for TCP. A unix URI has no authority and
 * an absolute path; a tcp URI has an IP address, a port, and nothing else. grpc-js reads `unix://host/p`
 * as a relative path, so such input is refused rather than passed through.
 */
import { isIP } from 'node:net';

export const ENDPOINT_ENV = 'SPIFFE_ENDPOINT_SOCKET';

export class WorkloadEndpointInvalid extends Error {
  constructor(address: string, problem: string) {
    super(`Workload API address ${JSON.stringify(address)} ${problem}`);
    this.name = 'WorkloadEndpointInvalid';
  }
}

function unixTarget(address: string, rest: string): string {
  // unix:///abs → rest "///abs"; unix:/abs → rest "/abs"
  let path: string;
  if (rest.startsWith('//')) {
    if (!rest.startsWith('///')) throw new WorkloadEndpointInvalid(address, 'must not name a host');
    path = rest.slice(2);
  } else path = rest;
  if (!path.startsWith('/') || path.length < 2)
    throw new WorkloadEndpointInvalid(address, 'needs an absolute socket path');
  if (/[?#]/.test(path)) throw new WorkloadEndpointInvalid(address, 'must not have a query or fragment');
  // Linux sockaddr_un holds 108 bytes including the terminating NUL.
  if (Buffer.byteLength(path) > 107) throw new WorkloadEndpointInvalid(address, 'has a socket path too long');
  return `unix://${path}`;
}

function tcpTarget(address: string, rest: string): string {
  const match = /^\/\/([^/?#]+)$/.exec(rest);
  if (!match) throw new WorkloadEndpointInvalid(address, 'must be tcp://IP:port with nothing after the port');
  const hostPort = match[1]!;
  const split = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(hostPort);
  if (!split) throw new WorkloadEndpointInvalid(address, 'needs an IP address and a port');
  const host = split[1]!.replace(/^\[|\]$/g, '');
  const port = Number(split[2]);
  if (isIP(host) === 0) throw new WorkloadEndpointInvalid(address, 'must use an IP address, not a host name');
  if (port < 1 || port > 65535) throw new WorkloadEndpointInvalid(address, 'has an invalid port');
  return isIP(host) === 6 ? `ipv6:[${host}]:${port}` : `ipv4:${host}:${port}`;
}

/** The grpc-js target for a Workload API address; throws WorkloadEndpointInvalid on anything else. */
export function workloadApiTarget(address: string): string {
  const match = /^([a-z][a-z0-9+.-]*):(.*)$/i.exec(address.trim());
  if (!match) throw new WorkloadEndpointInvalid(address, 'is not a unix:// or tcp:// URI');
  const scheme = match[1]!.toLowerCase();
  if (scheme === 'unix') return unixTarget(address, match[2]!);
  if (scheme === 'tcp') return tcpTarget(address, match[2]!);
  throw new WorkloadEndpointInvalid(address, 'must use the unix or tcp scheme');
}

/** The address from `SPIFFE_ENDPOINT_SOCKET`, or undefined when it is unset or empty. */
export function endpointFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[ENDPOINT_ENV];
  return value && value.trim().length > 0 ? value.trim() : undefined;
}
