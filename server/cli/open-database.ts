import { createLogger } from '../shared/logger';
import { connectDatabase } from '../wiring/database';
import { loadConfigOrExit } from './config-or-exit';

/** The broker's database for an admin command (DATABASE_URL, or the embedded one under $GRANTLINE_HOME). */
export async function openDatabaseForCli() {
  return connectDatabase(loadConfigOrExit(), createLogger({ level: 'warn' }, process.stderr));
}
