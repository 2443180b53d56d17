// GraphQL Code Generator: typed documents for the operations a client app needs, generated from
// the committed schema.graphql (offline). `npm run codegen`; a test fails when the output is stale.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['operations/**/*.graphql'],
  ignoreNoDocuments: false,
  // ES module imports with file extensions, as the project's NodeNext resolution wants.
  emitLegacyCommonJSImports: false,
  generates: {
    'operations/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string' },
        strictScalars: true,
      },
    },
  },
};

export default config;
