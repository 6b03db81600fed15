import { loginNameSyntaxProblem, MAX_NAME_LENGTH } from '../config/login-name.js';

/** Longest login name accepted when the caller does not say (LoginConfig.maxLength normally does). */
export const DEFAULT_MAX_NAME_LENGTH = MAX_NAME_LENGTH;

/**
 * A name the session may look up: exactly the names the config may hold
 * (config/login-name.ts, one rule for both), at most maxLength characters. Anything
 * else (spaces, control bytes, a leading "-") is refused before the policy sees it.
 */
export function validLoginName(s: string, maxLength: number = DEFAULT_MAX_NAME_LENGTH): boolean {
  return loginNameSyntaxProblem(s, maxLength) === undefined;
}
