// Runs graphql-http's server audits (the GraphQL-over-HTTP spec's conformance suite) against
// the URL given as the first argument. Prints every result; exits 1 on any MUST (error) or
// SHOULD (warn) failure. MAY failures (notice) are printed only.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://host:port/graphql');
  process.exit(2);
}
let failed = 0;
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  const line = `${result.status.padEnd(6)} ${audit.id} ${audit.name}`;
  if (result.status === 'ok') {
    console.log(line);
    continue;
  }
  let detail = result.reason;
  if (result.response) {
    detail += ` (status ${result.response.status}, content-type ${result.response.headers.get('content-type')})`;
  }
  console.log(`${line}: ${detail}`);
  if (result.status === 'error' || result.status === 'warn') failed++;
}
console.log(failed === 0 ? 'no MUST or SHOULD failure' : `${failed} MUST or SHOULD failures`);
process.exit(failed === 0 ? 0 : 1);
