// A real OpenID provider for the InnoLab tests: oidc-provider with its development
// login form (devInteractions). Started by tests/oidc/conftest.py on a free loopback port.
//
// Environment:
//   OIDC_TEST_PORT      port to listen on (127.0.0.1 only)
//   OIDC_TEST_HOST      host name of the issuer (default 127.0.0.1; the tests use
//                       localhost, another host than the app's, as a real provider is)
//   OIDC_TEST_CLIENTS   JSON list of clients (client_id, client_secret, redirect_uris,
//                       post_logout_redirect_uris)
//   OIDC_TEST_ACCOUNTS  path of a JSON file {login: {email, email_verified, name, locale,
//                       groups, amr, acr}}; read again at every sign-in, so a test can
//                       change a person's groups between two sign-ins. `amr` (a list) and
//                       `acr` say how the person signed in (the ID token carries them), as a
//                       provider that asked for a second factor would.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_TEST_PORT);
const issuer = `http://${process.env.OIDC_TEST_HOST || '127.0.0.1'}:${port}`;
const clients = JSON.parse(process.env.OIDC_TEST_CLIENTS || '[]').map((c) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...c,
}));
const accountsFile = process.env.OIDC_TEST_ACCOUNTS;

function readAccounts() {
  if (!accountsFile) return {};
  return JSON.parse(readFileSync(accountsFile, 'utf8'));
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', use: 'sig', alg: 'RS256' };

const configuration = {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: ['innolab-test-cookie-key-1'] },
  // Claims in the ID token itself (the app reads them from there).
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub', 'acr', 'amr', 'auth_time'],  // how and when the person signed in
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'locale'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  acrValues: ['urn:innolab:acr:pwd', 'urn:innolab:acr:mfa'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  async findAccount(ctx, sub) {
    const person = readAccounts()[sub];
    return {
      accountId: sub,
      async claims() {
        if (!person) return { sub };
        const { amr, acr, ...claims } = person;  // those two come from the session
        return { sub, ...claims };
      },
    };
  },
};

const provider = new Provider(issuer, configuration);

// The development login form knows no second factor: the accounts file says what the
// sign-in counts as (amr, acr), added to the login result before the session is made.
const finishInteraction = provider.interactionFinished.bind(provider);
provider.interactionFinished = async (req, res, result, options) => {
  if (result && result.login && result.login.accountId) {
    const person = readAccounts()[result.login.accountId] || {};
    if (Array.isArray(person.amr)) result.login.amr = person.amr;
    if (typeof person.acr === 'string') result.login.acr = person.acr;
  }
  return finishInteraction(req, res, result, options);
};
provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${issuer}`);
});

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
