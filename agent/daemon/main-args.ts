/**
 * The command line of `rack-agent` (SPEC.md "Programs"): `--config FILE` (or RACK_AGENT_CONFIG),
 * `--check-config`, `--version`, `--help`. A pure function so every form is a table test; usage
 * errors exit 64 (EX_USAGE), configuration errors 78 (EX_CONFIG).
 */

export const EXIT = { OK: 0, FAILURE: 1, USAGE: 64, CONFIG: 78 } as const;

export type MainArgs =
  | { readonly mode: 'run' | 'check'; readonly config: string }
  | { readonly mode: 'version' | 'help' }
  | { readonly mode: 'usage-error'; readonly message: string };

export const USAGE = `usage: rack-agent [--config FILE] [--check-config]
  --config FILE     the config file (YAML or JSON); default: $RACK_AGENT_CONFIG
  --check-config    validate the config file, list every problem, and exit (0 valid, 78 invalid)
  --version         print the version and exit`;

export function parseMainArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): MainArgs {
  let config = env.RACK_AGENT_CONFIG ?? '';
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check-config') check = true;
    else if (a === '--version' || a === '-V') return { mode: 'version' };
    else if (a === '--help' || a === '-h') return { mode: 'help' };
    else if (a === '--config' || a === '-c') {
      const v = argv[++i];
      if (v === undefined || v === '') return { mode: 'usage-error', message: `${a} needs a file name` };
      config = v;
    } else if (a.startsWith('--config=')) config = a.slice('--config='.length);
    else return { mode: 'usage-error', message: `unknown argument ${JSON.stringify(a)}` };
  }
  if (config === '') return { mode: 'usage-error', message: 'no config file: give --config FILE or set RACK_AGENT_CONFIG' };
  return { mode: check ? 'check' : 'run', config };
}

/**
 * NODE_ENV=production unless the environment says otherwise (README "Decisions"): the agent is a
 * production daemon, and its libraries pick their production builds by it (winston's debug helper,
 * @dabh/diagnostics, is then a no-op instead of a color library: 0.6 MB less at start). Set
 * before the daemon's modules load; the unit sets it too. Service check commands inherit it.
 */
export function defaultNodeEnv(env: Record<string, string | undefined>): void {
  if (env.NODE_ENV === undefined || env.NODE_ENV === '') env.NODE_ENV = 'production';
}
