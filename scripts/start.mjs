// npm start: the compiled server (dist/src/main.js), compiled first when dist/ is missing or older
// than the sources, so `npm ci && npm start` does everything on a fresh machine.
import { build, isStale } from './build.mjs';

if (isStale()) {
  console.log('compiling the server to dist/ (npm run build) ...');
  try {
    build();
  } catch (error) {
    console.error(`cannot start: ${error.message}`);
    process.exit(1);
  }
}
process.setSourceMapsEnabled(true);
await import('../dist/src/main.js');
