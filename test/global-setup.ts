// Jest global setup: encodes the simulator's stream profiles once, before any worker starts, so
// parallel test files never race to encode the same cache.
import { ensureStreamCache } from '../src/simulator';

export default async function globalSetup(): Promise<void> {
  await ensureStreamCache();
}
