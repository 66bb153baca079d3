/**
 * TCP MD5 key files (RFC 2385). The config holds only the path; loading checks the file with
 * stat and access and never opens it, and readPassword reads the key when a session needs it.
 * No message here ever contains a byte of the file: only its path, its mode and the reason.
 */

import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { ConfigError } from './errors.js';
import { MAX_MD5_KEY_LENGTH } from './formats.js';

/** What is wrong with a password file, or undefined when it is usable. Never reads the file. */
export function checkPasswordFile(path: string): string | undefined {
  let mode: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) return `${path} is not a regular file`;
    mode = st.mode & 0o777;
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? `${path} does not exist` : `${path} cannot be used (${errnoCode(err)})`;
  }
  // Other users must not be able to read the key: the same rule ssh applies to private keys.
  if (mode & 0o004) return `${path} is readable by every user (mode ${octal(mode)}): chmod o-r it, e.g. chmod 600`;
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    return `${path} is not readable by this user (${errnoCode(err)})`;
  }
  return undefined;
}

/**
 * The key in a password file, without one trailing newline. Throws ConfigError
 * (CONFIG_UNREADABLE or CONFIG_INVALID, `path` = the password file) naming the file, never the key.
 */
export function readPassword(path: string): string {
  const problem = checkPasswordFile(path);
  if (problem !== undefined) throw new ConfigError('CONFIG_UNREADABLE', path, [{ path: 'passwordFile', message: problem }]);
  let key: string;
  try {
    key = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError('CONFIG_UNREADABLE', path, [{ path: 'passwordFile', message: `${path} cannot be read (${errnoCode(err)})` }]);
  }
  const bytes = Buffer.byteLength(key);
  if (bytes === 0 || bytes > MAX_MD5_KEY_LENGTH || key.includes('\n')) {
    const why = bytes === 0 ? 'is empty' : key.includes('\n') ? 'holds more than one line' : `holds a key of ${bytes} bytes`;
    throw new ConfigError('CONFIG_INVALID', path, [
      { path: 'passwordFile', message: `${path} ${why}: a TCP MD5 key is one line of 1..${MAX_MD5_KEY_LENGTH} bytes` },
    ]);
  }
  return key;
}

function errnoCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'error';
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
