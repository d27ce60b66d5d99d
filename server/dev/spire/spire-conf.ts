/** HCL for a local SPIRE server and agent (real-stack-and-mcp.md §1: join token, `unix` attestor). */
export interface SpireConfInput {
  dir: string;
  trustDomain: string;
  serverPort: number;
  /** Serves the trust bundle on `https://127.0.0.1:<port>` with the `https_spiffe` profile. */
  bundleEndpointPort?: number;
  caTtl: string;
  x509SvidTtl: string;
  jwtSvidTtl: string;
}

export const serverSocket = (dir: string): string => `${dir}/server.sock`;
export const agentSocket = (dir: string): string => `${dir}/agent/api.sock`;

export function renderServerConf(c: SpireConfInput): string {
  const federation =
    c.bundleEndpointPort === undefined
      ? ''
      : `
  federation {
    bundle_endpoint {
      address = "127.0.0.1"
      port = ${c.bundleEndpointPort}
      refresh_hint = "1m"
      profile "https_spiffe" {}
    }
  }`;
  return `server {
  bind_address = "127.0.0.1"
  bind_port = "${c.serverPort}"
  socket_path = "${serverSocket(c.dir)}"
  trust_domain = "${c.trustDomain}"
  data_dir = "${c.dir}/server"
  log_level = "INFO"
  log_file = "${c.dir}/server.log"
  ca_ttl = "${c.caTtl}"
  default_x509_svid_ttl = "${c.x509SvidTtl}"
  default_jwt_svid_ttl = "${c.jwtSvidTtl}"${federation}
}

plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
      connection_string = "${c.dir}/server/datastore.sqlite3"
    }
  }
  KeyManager "memory" {
    plugin_data {}
  }
  NodeAttestor "join_token" {
    plugin_data {}
  }
}
`;
}

export function renderAgentConf(c: SpireConfInput): string {
  return `agent {
  data_dir = "${c.dir}/agent"
  log_level = "INFO"
  log_file = "${c.dir}/agent.log"
  server_address = "127.0.0.1"
  server_port = "${c.serverPort}"
  socket_path = "${agentSocket(c.dir)}"
  trust_domain = "${c.trustDomain}"
  trust_bundle_path = "${c.dir}/bootstrap.crt"
}

plugins {
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "memory" {
    plugin_data {}
  }
  WorkloadAttestor "unix" {
    plugin_data {}
  }
}
`;
}
