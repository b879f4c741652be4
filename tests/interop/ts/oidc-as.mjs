// A real OAuth 2.1 authorization server for the auth tests: npm
// `oidc-provider` on 127.0.0.1, with dynamic client registration, the
// client_credentials grant (headless) and resource indicators (RFC 8707).
// Access tokens for our MCP server's resource URI are JWTs signed with the
// RSA key made here (so the tests can also sign tokens the AS would never
// issue: expired, for another audience...), except for clients registered
// with the name "opaque", which get opaque tokens (RFC 7662 introspection).

import { generateKeyPairSync, createSign, createVerify, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const b64url = (x) => Buffer.from(x).toString('base64url');

/** An RSA signing key: { kid, privateKey, publicJwk }. */
export function rsaKey(kid = randomUUID()) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicKey, publicJwk, privateJwk };
}

/** A compact JWS with RS256 (or the raw header given). */
export function signJwt(claims, key, header = { alg: 'RS256', typ: 'at+jwt', kid: key.kid }) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = createSign('RSA-SHA256').update(input).sign(key.privateKey);
  return `${input}.${b64url(sig)}`;
}

/**
 * Start the AS on a free port. `resource` is the MCP server's resource URI;
 * `scopes` the scopes it may grant for it; `port` and `keys` (the first
 * signs) to restart it with rotated keys. Resolves to
 * { issuer, key, exchanges, counts: { jwks }, stop() }.
 */
export async function startAuthServer({ resource, scopes, port = 0, keys = [rsaKey()] }) {
  const key = keys[0];
  const http = createServer();
  await new Promise((r) => http.listen(port, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${http.address().port}`;
  const provider = new Provider(issuer, {
    jwks: { keys: keys.map((k) => k.privateJwk) },
    scopes: ['openid', 'offline_access', ...scopes],
    clientDefaults: { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
    // Any login name is an account (the dev login form takes no password).
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    cookies: { keys: [randomUUID()] },
    // No per-client scope allow-list: the SDK registers with the scope of
    // the first challenge, and step-up asks for more later.
    extraClientMetadata: {
      properties: ['software_statement_unused'],
      validator: (_ctx, _key, _value, metadata) => {
        delete metadata.scope;
      },
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      registration: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator, client) => {
          if (indicator !== resource) throw new Provider.errors.InvalidTarget();
          const opaque = client.clientName === 'opaque';
          return {
            scope: scopes.join(' '),
            audience: resource,
            accessTokenTTL: 300,
            accessTokenFormat: opaque ? 'opaque' : 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  const exchanges = [];
  provider.registerGrantType(TOKEN_EXCHANGE, tokenExchange(issuer, resource, key, exchanges), [
    'subject_token',
    'subject_token_type',
    'requested_token_type',
    'audience',
  ]);
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider:', err));
  const counts = { jwks: 0 };
  provider.use(async (ctx, next) => {
    if (ctx.path === '/jwks') counts.jwks += 1;
    await next();
  });
  http.on('request', provider.callback());
  return {
    issuer,
    key,
    provider,
    exchanges,
    counts,
    // Kept-alive connections (our server's pool) would hold close() open.
    stop: () => new Promise((r) => (http.close(r), http.closeAllConnections())),
  };
}

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

function verifies(jwt, key) {
  const [h, p, sig] = jwt.split('.');
  return createVerify('RSA-SHA256').update(`${h}.${p}`).verify(key.publicKey, Buffer.from(sig ?? '', 'base64url'));
}

/**
 * RFC 8693 token exchange, as a grant type added to oidc-provider (it has
 * none built in): a valid access token this AS issued for `resource` is
 * traded for a JWT whose audience is the requested one, for the same
 * subject, acting client in `act`. Every exchange is recorded.
 */
function tokenExchange(issuer, resource, key, exchanges) {
  return async (ctx) => {
    const { subject_token: subject, subject_token_type: type, audience } = ctx.oidc.params;
    const claims = subject && verifies(subject, key) ? JSON.parse(Buffer.from(subject.split('.')[1], 'base64url')) : null;
    const now = Math.floor(Date.now() / 1000);
    const ok = claims && claims.aud === resource && claims.exp > now && type === 'urn:ietf:params:oauth:token-type:access_token' && audience;
    if (!ok) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_grant', error_description: 'subject_token is not a valid access token for the resource' };
      return;
    }
    exchanges.push({ client: ctx.oidc.client.clientId, audience, sub: claims.sub });
    const token = signJwt(
      { iss: issuer, aud: audience, sub: claims.sub, act: { sub: ctx.oidc.client.clientId }, scope: claims.scope, iat: now, exp: now + 120, jti: randomUUID() },
      key,
    );
    ctx.body = {
      access_token: token,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: 120,
    };
  };
}

/** Register a client_credentials client (RFC 7591) and get a token for `resource`. */
export async function clientCredentialsToken(issuer, { resource, scope, name = 'test', grants = [] }) {
  const reg = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: name,
      grant_types: ['client_credentials', ...grants],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  });
  if (!reg.ok) throw new Error(`registration: ${reg.status} ${await reg.text()}`);
  const client = await reg.json();
  const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
  const body = new URLSearchParams({ grant_type: 'client_credentials', resource, scope });
  const tok = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  if (!tok.ok) throw new Error(`token: ${tok.status} ${await tok.text()}`);
  return { client, token: (await tok.json()).access_token };
}

/**
 * Drive an authorization request headless, as a user at the dev login and
 * consent pages would: follow the AS's redirects (with its cookies), log in
 * as `login`, consent, and resolve to the code sent to `redirectUri`.
 */
export async function authorizeHeadless(authorizationUrl, redirectUri, login = 'alice') {
  const jar = new Map();
  const remember = (r) => {
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  let next = new URL(authorizationUrl);
  for (let hop = 0; hop < 20; hop += 1) {
    if (next.href.startsWith(redirectUri)) {
      const code = next.searchParams.get('code');
      if (!code) throw new Error(`no code: ${next.href}`);
      return code;
    }
    let r = await fetch(next, { redirect: 'manual', headers: { cookie: cookie() } });
    remember(r);
    if (r.status === 200 && next.pathname.startsWith('/interaction/')) {
      const page = await r.text();
      const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
      const body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'x' } : { prompt });
      r = await fetch(next, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      remember(r);
    }
    const location = r.headers.get('location');
    if (!location) throw new Error(`authorization stopped at ${next.href}: ${r.status} ${await r.text()}`);
    next = new URL(location, next);
  }
  throw new Error('too many redirects');
}
