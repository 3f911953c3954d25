import { protectedAccountText } from '../../views/protection.js';
import {
  AccountGuard,
  type AccountProtection,
  type AccountReader,
  type Verdict,
} from '../domain/accounts/protection.js';
import { issueTokenForApi, type TokenRequest } from '../domain/setpass/issue.js';
import { isValidPin } from '../domain/setpass/pin.js';
import type { User } from '../keystone/index.js';
import { describeError, isKaizenError } from '../platform/errors.js';
import { mediaType, type RequestContext, readBody, sendText } from '../platform/http/router.js';
import { BODY_LIMIT_BYTES, type SetpassRouteDeps } from './deps.js';

const API_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** Keystone's SQL ids are hex; LDAP-backed ids can be names. Either way: one safe path segment. */
const USER_ID = /^[A-Za-z0-9._@-]{1,255}$/;

export async function putToken(deps: SetpassRouteDeps, ctx: RequestContext): Promise<void> {
  const { req, res } = ctx;
  const reply = (status: number, text: string) => sendText(res, status, text, API_HEADERS);
  const callerToken = req.headers['x-auth-token'];
  if (typeof callerToken !== 'string' || callerToken.trim() === '') {
    return reply(401, 'An X-Auth-Token header with a Keystone token of a cloud admin is required.\n');
  }
  const type = mediaType(req);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (type !== 'application/json' && !(type === '' && declared === 0)) {
    return reply(415, 'Send the body as application/json: {"password": "...", "pin": "1234"}.\n');
  }
  const body = await readBody(req, BODY_LIMIT_BYTES);
  // This role holds no admin credentials: the caller's own token, scoped to the admin project,
  // reads the target's role assignments for the protected-account rule.
  const caller = await deps.setpass.keystone.asAdminCaller(callerToken.trim());
  if (caller === undefined) {
    return reply(403, 'This token does not belong to an admin of the admin project.\n');
  }
  const userId = ctx.params.user_id ?? '';
  if (!USER_ID.test(userId)) return reply(400, 'The user id in the path is not a Keystone user id.\n');
  const parsed = parseTokenRequest(body);
  if (typeof parsed === 'string') return reply(400, `${parsed}\n`);
  const refusal = await protectedTarget(deps, caller, userId);
  if (refusal !== undefined) return reply(refusal.status, `${refusal.text}\n`);

  try {
    const token = await issueTokenForApi(deps.setpass, userId, parsed);
    deps.log.info(
      { userId, renewal: parsed.password === undefined },
      'password link issued through PUT /token',
    );
    await deps.audit.record({
      actor: 'keystone-admin',
      action: 'setpass.token_issued',
      subject: userId,
      outcome: 'ok',
      detail: parsed.password === undefined ? 'renewed through PUT /token' : 'issued through PUT /token',
    });
    return reply(200, token);
  } catch (error) {
    if (isKaizenError(error, 'invalid')) return reply(400, `${error.message}\n`);
    // The user's link is being redeemed or issued right now: nothing was done.
    if (isKaizenError(error, 'conflict')) return reply(409, `${error.message}\n`);
    if (isKaizenError(error, 'unreachable')) {
      return reply(503, 'Keystone is not reachable right now; try again shortly.\n');
    }
    throw error;
  }
}

/**
 * Why PUT /token must not touch this user, or undefined (also for a user Keystone does not know:
 * the rest refuses those). A user who cannot be checked is refused: the rule fails closed.
 */
async function protectedTarget(
  deps: SetpassRouteDeps,
  caller: AccountReader,
  userId: string,
): Promise<{ status: number; text: string } | undefined> {
  let user: User;
  let verdict: Verdict<AccountProtection>;
  try {
    user = await caller.getUser(userId);
    verdict = await new AccountGuard(caller, deps.protection).check(user);
  } catch (error) {
    if (isKaizenError(error, 'not_found')) return undefined;
    deps.log.warn(
      { err: error, userId },
      'PUT /token: could not check the user against the protected accounts',
    );
    return isKaizenError(error, 'unreachable')
      ? { status: 503, text: 'Keystone is not reachable right now; try again shortly.' }
      : {
          status: 403,
          text: `User ${userId} could not be checked against the protected accounts (${describeError(error)}); nothing was done.`,
        };
  }
  if (!verdict.protected) return undefined;
  deps.log.warn({ userId, reason: verdict.reason }, 'PUT /token refused for a protected account');
  await deps.audit.record({
    actor: 'keystone-admin',
    action: 'setpass.token_issued',
    subject: userId,
    outcome: 'denied',
    detail: `protected account: ${verdict.reason}`,
  });
  return { status: 403, text: protectedAccountText('A password link', user.name, verdict.reason) };
}

/** The request, or what is wrong with it in words for the caller. */
export function parseTokenRequest(body: string): TokenRequest | string {
  if (body.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'The body is not valid JSON.';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'The body must be a JSON object: {"password": "...", "pin": "1234"}.';
  }
  const { password, pin } = value as Record<string, unknown>;
  if (password !== undefined && (typeof password !== 'string' || password === '')) {
    return '"password" must be a non-empty string.';
  }
  if (pin !== undefined && (typeof pin !== 'string' || !isValidPin(pin))) {
    return '"pin" must be exactly 4 digits, as a string such as "1234".';
  }
  return { password, pin } as TokenRequest;
}
