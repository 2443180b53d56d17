// npm run token -- <sub> [name]: prints a development bearer token signed with AUTH_JWT_SECRET.
import { signToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config.ts';

const [sub, name] = process.argv.slice(2);
if (!sub) {
  console.error('usage: npm run token -- <sub> [name]');
  process.exit(2);
}
const config = loadConfig();
if (config.jwtSecretIsDevelopment) console.error('note: signed with the development secret (AUTH_JWT_SECRET is unset)');
console.log(await signToken({ sub, name: name ?? sub }, config.jwtSecret));
