/**
 * The role's service handling in the test-only netns mode, with a stand-in daemon (a shell script
 * that listens on the control socket and logs its signals), so that it runs before the real daemon
 * exists: the first run starts the agent (and neither reloads nor restarts it), a second run
 * changes nothing, a config change reloads (SIGHUP, same process), a new package (a stand-in .deb,
 * installed with `dpkg --root` into the host's own root) restarts
 * (SIGTERM, new process) drained around it (agentctl drain, rack_agent_drain_time, SIGTERM, start,
 * agentctl wait, undrain, in that order; none of it with drain time 0; undrained also when the wait
 * fails; through rollout.yml, a rollback's restart is not drained), a change the agent refuses to
 * reload (metrics.listen) restarts, and the agent runs inside
 * its namespace as the agent user with exactly the unit's capabilities and no new privileges.
 * rollout.test.ts does the same with the real agent.
 */

import test from 'ava';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, waitFor } from '../helpers/netns.js';
import { hostDir, overlay, playbook } from './ansible.js';
import { dpkgRootAt, fakeDeb } from './deb.js';
import { which } from './paths.js';

const missing = !isRoot ? 'needs root for network namespaces' : which('ansible-playbook') === undefined ? 'ansible is not installed' : undefined;

/** The stand-in: --check-config passes; otherwise logs who and where it is, then every signal. */
const FAKE_AGENT = `#!/bin/bash
if [[ $1 == --check-config ]]; then exit 0; fi
sock=$(sed -n 's/^  socket: "\\(.*\\)"$/\\1/p' "$2")
echo "start pid=$$ uid=$(id -u) $(grep CapEff /proc/self/status | tr -d '\\t') $(grep NoNewPrivs /proc/self/status | tr -d '\\t') netns=$(ip netns identify $$)"
/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen()
while True: time.sleep(1)' "$sock" &
listener=$!
trap 'echo "HUP pid=$$"' HUP
trap 'echo "TERM pid=$$"; kill $listener; exit 0' TERM
while true; do sleep 0.1; done
`;

/**
 * The stand-in agentctl: `reload` answers as the agent does; it refuses a metrics.listen change
 * as one that needs a restart (the real agent does, agent/main.ts RESTART_ONLY). `drain`,
 * `undrain` and `wait` answer as the agent does and append a line with the time in ms to the
 * agent's log, so the log shows drain, SIGTERM, start, wait, undrain in the order they happened;
 * `wait` fails while the host's run directory holds a file named wait-fails.
 */
const FAKE_AGENTCTL = `#!/bin/bash
# agentctl --socket ROOT/hosts/HOST/run/rack-agent/agent.sock reload|drain|undrain -o json | wait --timeout N
run=$(dirname "$(dirname "$2")")
config=$(dirname "$run")/etc/config.yaml
note() { echo "$1 at=$(date +%s%3N)" >> "$run/rack-agent.log"; }
case $3 in
  reload)
    if grep -q 'listen: "127.0.0.1:9180"' "$config"; then
      echo '{"applied":false,"peersAdded":[],"peersRemoved":[],"peersRestarted":[],"blocksAdded":[],"blocksRemoved":[],"problems":["metrics: changing it needs a restart of the agent (systemctl restart rack-agent)"]}'
      exit 1
    fi
    echo '{"applied":true,"peersAdded":[],"peersRemoved":[],"peersRestarted":[],"blocksAdded":[],"blocksRemoved":[]}' ;;
  drain) note drain; echo '{"drained":true,"changed":true}' ;;
  undrain) note undrain; echo '{"drained":false,"changed":true}' ;;
  wait)
    note wait
    if [[ -e $run/wait-fails ]]; then echo "peer 10.0.1.1 not Established"; exit 1; fi ;;
esac
exit 0
`;

(missing === undefined ? test : test.skip)(`netns mode: start once, reload on a config change, restart on a new package${missing ? ` [${missing}]` : ''}`, async (t) => {
  t.timeout(300_000);
  const root = mkdtempSync(join(tmpdir(), 'rack-handlers-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true })); // runs after the lab's teardown
  chmodSync(root, 0o755);
  mkdirSync(hostDir(root, 'r1-n1'), { recursive: true, mode: 0o755 });
  const lab = await useLab(t, 'hdl');
  const ns = await lab.namespace('r1n1');
  const debs: Record<string, string> = {};
  for (const version of ['1.0.0+a', '1.0.0+b']) {
    debs[version] = await fakeDeb(join(root, 'build'), version, { 'rack-agent': FAKE_AGENT, agentctl: FAKE_AGENTCTL });
  }
  // The package goes into a dpkg root of the host's own (the role's TEST ONLY rack_agent_dpkg_root).
  const dpkgRoot = dpkgRootAt(join(hostDir(root, 'r1-n1'), 'root'));
  const log = join(hostDir(root, 'r1-n1'), 'run', 'rack-agent.log');
  const lines = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  const site = async (version: string, extra: Record<string, unknown> = {}, ok = true, book = 'site.yml') => {
    const r = await playbook(root, [book, '--limit', 'r1-n1'], {
      vars: overlay(root, {
        rack_agent_manage_service: true,
        rack_agent_service_mode: 'netns',
        rack_agent_netns: ns,
        rack_agent_package: debs[version],
        rack_agent_dpkg_root: dpkgRoot,
        rack_agent_validate: false,
        rack_agent_netns_as_user: true,
        rack_agent_user: 'nobody',
        rack_agent_group: 'nogroup',
        ...extra,
      }, { perHostBin: true }),
      json: true,
    });
    if (ok) t.is(r.code, 0, r.stdout + r.stderr);
    else t.not(r.code, 0);
    return r.json!.stats['r1-n1'];
  };

  await site('1.0.0+a');
  await waitFor(() => lines().length >= 1, { timeoutMs: 10_000, what: 'the agent to start' });
  const [start] = lines();
  t.regex(start, new RegExp(`^start pid=\\d+ uid=65534 CapEff:0000000000003400 NoNewPrivs:1 netns=${ns}$`));
  const pid = /pid=(\d+)/.exec(start)?.[1];
  t.is(readFileSync(join(hostDir(root, 'r1-n1'), 'run', 'rack-agent.pid'), 'utf8').trim(), pid ?? '?', 'the pid file names the agent itself');

  t.is((await site('1.0.0+a')).changed, 0, 'a second run changes nothing');
  t.deepEqual(lines(), [start]);

  await site('1.0.0+a', { rack_agent_hold_time: 45 });
  await waitFor(() => lines().length >= 2, { timeoutMs: 10_000, what: 'the reload' });
  t.deepEqual(lines(), [start, `HUP pid=${pid}`], 'a config change reloads the same process');

  // A new package restarts, drained around it (RFC 8326): drain, rack_agent_drain_time, SIGTERM,
  // the new process, agentctl wait, undrain, in that order, and no reload as well.
  const plain = (line: string): string => line.replace(/ at=\d+$/, '').replace(/pid=\d+.*$/, 'pid=N');
  const at = (line: string): number => Number(/ at=(\d+)$/.exec(line)?.[1] ?? NaN);
  await site('1.0.0+b', { rack_agent_hold_time: 45, rack_agent_drain_time: 2 });
  await waitFor(() => lines().length >= 7, { timeoutMs: 10_000, what: 'the restart' });
  const after = lines();
  t.deepEqual(after.slice(2).map(plain), ['drain', 'TERM pid=N', 'start pid=N', 'wait', 'undrain'], 'a new package restarts, drained');
  t.is(after[3], `TERM pid=${pid}`);
  t.regex(after[4], /^start pid=\d+ uid=65534 /);
  t.not(/pid=(\d+)/.exec(after[4])?.[1], pid);
  t.true(at(after[5]) - at(after[2]) >= 2000, `rack_agent_drain_time passes between drain and restart: ${after[2]} / ${after[5]}`);

  // A change a reload cannot apply: SIGHUP, the agent refuses it, so the role restarts it (drained).
  const pid2 = /pid=(\d+)/.exec(after[4])?.[1] ?? '?';
  await site('1.0.0+b', { rack_agent_hold_time: 45, rack_agent_metrics_listen: '127.0.0.1:9180', rack_agent_drain_time: 1 });
  await waitFor(() => lines().length >= 13, { timeoutMs: 10_000, what: 'the reload and the restart' });
  const last = lines();
  t.deepEqual(last.slice(7).map(plain), ['HUP pid=N', 'drain', 'TERM pid=N', 'start pid=N', 'wait', 'undrain']);
  t.is(last[7], `HUP pid=${pid2}`);
  t.is(last[9], `TERM pid=${pid2}`);

  // rack_agent_drain_time 0: a restart without a drain.
  await site('1.0.0+a', { rack_agent_hold_time: 45, rack_agent_metrics_listen: '127.0.0.1:9180', rack_agent_drain_time: 0 });
  await waitFor(() => lines().length >= 15, { timeoutMs: 10_000, what: 'the undrained restart' });
  t.deepEqual(lines().slice(13).map(plain), ['TERM pid=N', 'start pid=N'], 'drain time 0: no drain, no wait, no undrain');

  // The agent not ready after the restart: the role fails, and the node is undrained all the same.
  writeFileSync(join(hostDir(root, 'r1-n1'), 'run', 'wait-fails'), '');
  const failed = await site('1.0.0+b', { rack_agent_hold_time: 45, rack_agent_metrics_listen: '127.0.0.1:9180', rack_agent_drain_time: 1 }, false);
  t.is(failed.failures, 1, 'a restarted agent that is not ready fails the host');
  t.deepEqual(lines().slice(15).map(plain), ['drain', 'TERM pid=N', 'start pid=N', 'wait', 'undrain'], 'undrained after the failed wait');

  // rollout.yml (r1-n1 as its rack's batch): a good package passes the gate; then a package whose
  // agent is never ready fails its drained restart and the gate, and the rollback's restart onto
  // the previous package is not drained.
  rmSync(join(hostDir(root, 'r1-n1'), 'run', 'wait-fails'));
  const rollout = { rollout_racks: ['rack_r1'], rack_agent_hold_time: 45, rack_agent_metrics_listen: '127.0.0.1:9180', rack_agent_drain_time: 1 };
  await site('1.0.0+a', rollout, true, 'rollout.yml');
  t.deepEqual(lines().slice(20).map(plain), ['drain', 'TERM pid=N', 'start pid=N', 'wait', 'undrain', 'wait'], 'drained restart, then the gate');
  writeFileSync(join(hostDir(root, 'r1-n1'), 'run', 'wait-fails'), '');
  await site('1.0.0+b', rollout, false, 'rollout.yml');
  t.deepEqual(lines().slice(26).map(plain), ['drain', 'TERM pid=N', 'start pid=N', 'wait', 'undrain', 'wait', 'TERM pid=N', 'start pid=N', 'wait'],
    'the failed drained restart is undrained; the gate fails; the rollback restarts without a drain; the gate runs again');
});
