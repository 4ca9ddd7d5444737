/** Where the real DVB broadcast captures live in the repository (see test/fixtures/samples/README.md). */
import { join } from 'node:path';

export const SAMPLES = join(__dirname, '..', 'fixtures', 'samples');
