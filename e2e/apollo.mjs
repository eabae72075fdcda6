// Drives the API the way a frontend does, with Apollo Client 4: logs in with variables, reads
// the code of a bad token's error (with urql too), sends two queries in one request with BatchHttpLink, and
// pages events ordered by USER_ID with after cursors until hasNextPage is false.
// Usage: node apollo.mjs <url> <email> <password>. Prints one JSON object; exits 1 on failure.
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client';
import { BatchHttpLink } from '@apollo/client/link/batch-http';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { Client as UrqlClient, fetchExchange } from '@urql/core';

const [url, email, password] = process.argv.slice(2);
const client = (link) => new ApolloClient({ link, cache: new InMemoryCache() });
const opts = { fetchPolicy: 'no-cache' };
const out = {};
const fail = (msg) => { out.failure = msg; console.log(JSON.stringify(out)); process.exit(1); };

const anon = client(new HttpLink({ uri: url }));
const login = await anon.mutate({
  mutation: gql`mutation LogIn($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }`,
  variables: { email, password },
});
const token = login.data?.logIn?.token;
if (!token) fail('no token from logIn');
const headers = { Authorization: `Bearer ${token}` };

// A bad token: Apollo must see a GraphQL error with its code, not a network error.
try {
  await client(new HttpLink({ uri: url, headers: { Authorization: 'Bearer mdb_not-a-session' } }))
    .query({ query: gql`query Me { me { id } }`, ...opts });
  fail('a bad token was accepted');
} catch (err) {
  out.badTokenGraphQLError = CombinedGraphQLErrors.is(err);
  out.badTokenCode = CombinedGraphQLErrors.is(err) ? err.errors[0]?.extensions?.code : String(err);
}

// urql reads the same 401 as a GraphQL error too.
const urql = new UrqlClient({
  url,
  exchanges: [fetchExchange],
  requestPolicy: 'network-only',
  fetchOptions: { headers: { Authorization: 'Bearer mdb_not-a-session' } },
});
const urqlResult = await urql.query('query Me { me { id } }', {}).toPromise();
out.urqlBadTokenCode = urqlResult.error?.graphQLErrors?.[0]?.extensions?.code ?? String(urqlResult.error);

// Two queries in one request.
let requests = 0;
const counting = (input, init) => { requests++; return fetch(input, init); };
const batched = client(new BatchHttpLink({ uri: url, headers, fetch: counting, batchMax: 10, batchInterval: 20 }));
const [me, count] = await Promise.all([
  batched.query({ query: gql`query Me { me { email } }`, ...opts }),
  batched.query({ query: gql`query Count { events { totalCount } }`, ...opts }),
]);
out.batch = { requests, email: me.data?.me?.email, totalCount: count.data?.events?.totalCount };

// Pages by USER_ID, both directions, against one page of everything.
const http = client(new HttpLink({ uri: url, headers }));
const pageQuery = gql`query Page($first: Int, $after: Cursor, $direction: OrderDirection!) {
  events(first: $first, after: $after, orderBy: {field: USER_ID, direction: $direction}) {
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;
out.paging = {};
for (const direction of ['ASC', 'DESC']) {
  const all = await http.query({ query: pageQuery, variables: { first: 1000, direction }, ...opts });
  const want = all.data.events.edges.map((e) => e.node.id);
  const got = [];
  let after = null;
  for (let i = 0; i <= want.length; i++) {
    const page = await http.query({ query: pageQuery, variables: { first: 3, after, direction }, ...opts });
    got.push(...page.data.events.edges.map((e) => e.node.id));
    if (!page.data.events.pageInfo.hasNextPage) break;
    after = page.data.events.pageInfo.endCursor;
  }
  out.paging[direction] = { rows: want.length, same: JSON.stringify(got) === JSON.stringify(want) };
}
console.log(JSON.stringify(out));
