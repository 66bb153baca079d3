/**
 * The Ansible role under a real systemd (issue 24), run by `npm run test:systemd`: the rollout
 * (rollout.yml, systemd mode, the production path: the .deb copied to the host and installed with
 * Ansible's apt module, the package's unit enabled and started) against the Debian 13 container
 * of world.ts, reached with community.docker's nsenter connection on the container's PID 1. The
 * rack's gate (`agentctl wait`) passes against the BIRD ToR; the agent runs under systemd as the
 * unit says; the .deb is kept in the package directory; a second run changes nothing. Then a
 * newer, broken package (its agentctl fails) fails the gate and the role puts the kept good one
 * back with apt and restarts the agent: the gate passes on it. Last, a newer good release from an
 * apt repository (`rack_agent_apt_repository`, a flat file repository in the container) is
 * installed, kept in the package directory, and passes the gate.
 *
 * Skipped where systemd-nspawn or ansible is missing (or not root).
 */

import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { isRoot } from '../../helpers/netns.js';
import { playbook, results } from '../ansible.js';
import { run, which } from '../paths.js';
import { AS, bootWorld, NODE, TOR, type World } from './world.js';

const missing = !isRoot ? 'needs root' : which('systemd-nspawn') === undefined ? 'systemd-nspawn is missing'
  : which('ansible-playbook') === undefined ? 'ansible is not installed' : undefined;

let world: World | undefined;
test.before(async () => {
  if (missing === undefined) world = await bootWorld('role');
});
test.after.always(async () => {
  if (world !== undefined) console.log(`test:systemd role: done ${((Date.now() - world.started) / 1000).toFixed(1)} s after the start`);
  await world?.lab.destroy();
});

const TITLE = 'the role under systemd: rollout.yml installs the .deb with apt, starts the unit, the gate passes; a second run changes nothing; a broken package is rolled back';

(missing === undefined ? test.serial : test.serial.skip)(missing === undefined ? TITLE : `${TITLE} [${missing}]`, async (t) => {
  t.timeout(300_000);
  const { ct, debPath, bird } = world!;
  const scratch = mkdtempSync(join(tmpdir(), 'rack-sysd-role-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  // One rack of one server: the container.
  const inventory = join(scratch, 'hosts.yml');
  writeFileSync(inventory, 'all:\n  children:\n    racks:\n      children:\n        rack_ct:\n          hosts:\n            ct-n13:\n');
  const vars = {
    ansible_connection: 'community.docker.nsenter',
    ansible_nsenter_pid: ct.leader,
    ansible_python_interpreter: '/usr/bin/python3',
    rack_agent_package: debPath,
    rack_agent_rack: 'ct',
    rack_agent_rack_as: AS,
    rack_agent_ipv4_address: `${NODE}/24`,
    rack_agent_blocks: ['192.168.0.0/26'],
    rack_agent_pools: [{ cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Never' }],
    rack_agent_tors: [{ name: 'tor', address: TOR }],
    rack_agent_gate_timeout: 30,
  };
  const first = await playbook(scratch, ['rollout.yml'], { vars, inventory, json: true });
  t.is(first.code, 0, first.stdout.slice(-8000) + first.stderr);
  const doc = first.json!;
  t.deepEqual(results(doc, 'rack_agent : Install the package (apt)').map(([, host, r]) => [host, r.changed]), [['ct-n13', true]]);
  t.deepEqual(results(doc, 'rack_agent : Health gate (').map(([, host, r]) => [host, r.rc]), [['ct-n13', 0]]);
  t.is((await ct.show('rack-agent.service', 'ActiveState')), 'active');
  t.is((await ct.show('rack-agent.service', 'UnitFileState')), 'enabled');
  t.is((await ct.show('rack-agent.service', 'FragmentPath')), '/usr/lib/systemd/system/rack-agent.service');
  t.is((await ct.must('stat -c %U /proc/$(systemctl show -P MainPID rack-agent)')).trim(), 'rack-agent');
  t.true((await bird.neighbor(NODE)).established);
  t.regex(await ct.must('ls /var/cache/rack-agent/packages'), /^rack-agent_.*\.deb$/m);

  const again = await playbook(scratch, ['rollout.yml'], { vars, inventory, json: true });
  t.is(again.code, 0, again.stdout.slice(-8000) + again.stderr);
  t.is(again.json!.stats['ct-n13'].changed, 0);

  // A newer package whose agentctl fails: the gate fails, the role re-installs the kept good
  // package with apt (a downgrade) and restarts the agent under systemd; the gate passes on it.
  const good = (await ct.must("dpkg-query -W -f '${Version}' rack-agent")).trim();
  const pidBefore = await ct.show('rack-agent.service', 'MainPID');
  const bad = await brokenPackage(debPath, scratch);
  const third = await playbook(scratch, ['rollout.yml'], { vars: { ...vars, rack_agent_package: bad }, inventory, json: true });
  t.not(third.code, 0, 'the bad package stops the rollout');
  const doc3 = third.json!;
  t.deepEqual(results(doc3, 'rack_agent : Health gate (').map(([, host, r]) => [host, r.rc]), [['ct-n13', 1]]);
  t.deepEqual(results(doc3, 'rack_agent : Re-install the previous package (apt)').map(([, host, r]) => [host, r.changed]), [['ct-n13', true]]);
  t.deepEqual(results(doc3, 'rack_agent : Health gate after the rollback').map(([, host, r]) => [host, r.rc]), [['ct-n13', 0]]);
  t.is((await ct.must("dpkg-query -W -f '${Version}' rack-agent")).trim(), good);
  t.is(await ct.show('rack-agent.service', 'ActiveState'), 'active');
  t.not(await ct.show('rack-agent.service', 'MainPID'), pidBefore, 'restarted on the good package');
  t.is((await ct.sh('agentctl wait --timeout 30')).code, 0);

  // From an apt repository the operator names (a flat file repository in the container here, as
  // an internal mirror would be): a newer good release is installed from it, kept in the package
  // directory like a copied .deb, and the gate passes on it.
  const newer = await repackaged(debPath, scratch, '+repo', false);
  // The repository is built here (dpkg-scanpackages over a folder of its own), then put in the
  // container's /srv through its root.
  const built = join(scratch, 'repo');
  await run('mkdir', ['-p', built]);
  await run('cp', [newer, built]);
  const scan = await run('dpkg-scanpackages', ['-m', '.', '/dev/null'], { cwd: built });
  t.is(scan.code, 0, scan.stderr);
  t.regex(scan.stdout, /^Package: rack-agent$/m, scan.stderr);
  writeFileSync(join(built, 'Packages'), scan.stdout);
  // A Release naming the index and its hash (apt refuses a repository without one); unsigned, hence [trusted=yes].
  const sha = createHash('sha256').update(scan.stdout).digest('hex');
  writeFileSync(join(built, 'Release'), `Origin: rack-agent-test\nLabel: rack-agent-test\nDate: ${new Date().toUTCString()}\nSHA256:\n ${sha} ${Buffer.byteLength(scan.stdout)} Packages\n`);
  const copied = await run('cp', ['-r', built, `/proc/${ct.leader}/root/srv/rack-agent-repo`]);
  t.is(copied.code, 0, copied.stderr);
  // The container's network is the lab's: Debian's archive is out of reach, so its sources go
  // (the root is a volatile overlay) and `apt update` reads the repository alone.
  await ct.must('rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*');
  // The rollback above started the unit several times within seconds: systemd's start limit
  // (5 in 10 s) would refuse the next start. Rollouts minutes apart never meet it; the test resets it.
  await ct.must('systemctl reset-failed rack-agent.service');
  const fromRepo = await playbook(scratch, ['rollout.yml'], {
    vars: { ...vars, rack_agent_package: '', rack_agent_apt_repository: 'deb [trusted=yes] file:/srv/rack-agent-repo ./' }, inventory, json: true,
  });
  const failedTasks = fromRepo.json === undefined ? [] : fromRepo.json.plays.flatMap((p) => p.tasks)
    .filter((task) => Object.values(task.hosts).some((r) => (r as { failed?: boolean }).failed === true))
    .map((task) => `${task.task.name}: ${JSON.stringify(task.hosts).slice(0, 1500)}`);
  t.is(fromRepo.code, 0, failedTasks.join('\n') || fromRepo.stdout.slice(-8000) + fromRepo.stderr);
  t.deepEqual(results(fromRepo.json!, 'rack_agent : Install rack-agent from the repository').map(([, host, r]) => [host, r.changed]), [['ct-n13', true]]);
  t.is((await ct.must("dpkg-query -W -f '${Version}' rack-agent")).trim(), `${good}+repo`);
  t.regex(await ct.must('ls /var/cache/rack-agent/packages'), /^rack-agent_.*\+repo_.*\.deb$/m, 'the repository\'s package is kept for a rollback');
  t.is(await ct.show('rack-agent.service', 'ActiveState'), 'active');
  t.is((await ct.sh('agentctl wait --timeout 30')).code, 0);
});

/** The .deb repacked as VERSION+bad with an agentctl that always fails (a broken release). */
async function brokenPackage(deb: string, dir: string): Promise<string> {
  return repackaged(deb, dir, '+bad', true);
}

/** The .deb repacked as VERSION`suffix`; `broken`: its agentctl always fails. */
async function repackaged(deb: string, dir: string, suffix: string, broken: boolean): Promise<string> {
  const tree = join(dir, `pkg${suffix}`);
  const step = async (cmd: string, args: string[]): Promise<void> => {
    const r = await run(cmd, args);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  };
  await step('dpkg-deb', ['-R', deb, tree]);
  const control = join(tree, 'DEBIAN', 'control');
  writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: (.*)$/m, `Version: $1${suffix}`));
  if (broken) writeFileSync(join(tree, 'usr/bin/agentctl'), '#!/bin/sh\necho "broken release"; exit 1\n');
  const out = join(dir, basename(deb).replace(/_([^_]+)_([^_]+)$/, `_$1${suffix}_$2`));
  await step('dpkg-deb', ['--root-owner-group', '-b', tree, out]);
  return out;
}
