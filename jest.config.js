/** Jest: TypeScript through ts-jest; real processes and sockets, so tests get generous timeouts. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  // Real ffmpeg and HTTP servers: two cores, so two workers at most.
  maxWorkers: 2,
  globalSetup: '<rootDir>/test/global-setup.ts',
};
