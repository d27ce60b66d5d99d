import globalSetup from '../../helpers/global-setup';
import { ensureDistBuilt } from './build-dist';

/** The shared set-up (a PostgreSQL for the run), then a current dist/ for the brokers run as processes. */
export default async function faultsGlobalSetup(): Promise<void> {
  await globalSetup();
  ensureDistBuilt();
}
