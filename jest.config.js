/** jest in ESM mode: middy and our own package are ESM-only. */
export default {
  testEnvironment: '<rootDir>/test/support/node-environment.cjs',
  extensionsToTreatAsEsm: ['.ts'],
  // Relative imports and the package's subpath imports (package.json "imports": #functions/..., #test/...)
  // name .js files; jest loads the .ts source.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^#(functions|infra|cli|bench|models|test)/(.*)\\.js$': '<rootDir>/$1/$2',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/cdk.out/'],
  modulePathIgnorePatterns: ['<rootDir>/cdk.out/', '<rootDir>/.facerec/'],
  testTimeout: 120000,
};
