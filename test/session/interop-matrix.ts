/**
 * The interop matrix of issue 3 (must show 2), run once per ToR daemon by interop-bird.test.ts and
 * interop-frr.test.ts: our sessions (the session driver, test/helpers/session-driver.ts, in the
 * `node` namespace) against a real BIRD 2 or FRR (test/helpers/bird.ts, frr.ts, in `tor`).
 *
 * Models: iBGP with the daemon as route reflector and the agent its client (AS 64512), eBGP
 * AS-per-rack (ToR 65100, node 65101) and eBGP with 4-octet ASes (4200000100 / 4200000101).
 * Cases per model, serially in one shared lab (interop-setup.ts; IPv4 + IPv6 on every link):
 * whichever side connects first; IPv4 and IPv6 unicast both ways over one IPv4 session; MD5 right
 * key up, wrong key never up; GTSM; hold-timer expiry on a frozen daemon and recovery; daemon
 * restart and reconnection within our connect-retry time; the daemon's NOTIFICATION as our last
 * error; and, for iBGP, route reflection as a second client (FRR) sees it. Each case starts its own
 * daemon and driver and ends them, whatever happens.
 */
import test, { type ExecutionContext } from 'ava';
import { waitEstablished, waitRoutes } from '../helpers/bgp-daemon.js';
import { Frr } from '../helpers/frr.js';
import { isRoot, rootSkipReason, waitFor } from '../helpers/netns.js';
import {
  bothUp, type CaseSetup, CLIENT2, CLIENT2_ROUTES, CLUSTER_ID, eventAfter, InteropLab, type Model, models, NODE,
  NODE_ROUTER_ID, NODE_ROUTES, neverUp, type Running, type StartDaemon, TOR2, TOR_ROUTES, UP_MS,
} from './interop-setup.js';

export type { StartDaemon };

export function interopMatrix(kind: 'bird' | 'frr', start: StartDaemon): void {
  const serial = isRoot ? test.serial : test.skip;
  const note = isRoot ? '' : ` (skipped: ${rootSkipReason})`;
  let env: InteropLab | undefined;
  if (isRoot) {
    test.before(async () => {
      env = await InteropLab.create(`io${kind}`);
    });
  }
  test.after.always(async () => {
    await env?.destroy();
  });
  const lab = (): InteropLab => {
    if (env === undefined) throw new Error('interop lab not created');
    return env;
  };
  const withPair = (t: ExecutionContext, model: Model, setup: CaseSetup, body: (r: Running) => Promise<void>):
  Promise<void> => lab().pair(t, start, model, setup, body);

  for (const model of models) {
    const internal = model.torAs === model.nodeAs;
    const title = (what: string): string => `${kind} ToR, ${model.name}: ${what}${note}`;

    serial(title('the ToR connects to a passive agent; IPv4 and IPv6 routes both ways'), (t) =>
      withPair(t, model, { node: { passive: true } }, async (r) => {
        const up = await bothUp(r);
        t.is(await lab().connector(), 'tor');
        t.deepEqual([...(up.families as string[])].sort(), ['ipv4', 'ipv6']);
        // Ours at the ToR: next hops as announced, AS path by the model.
        const asPath = internal ? [] : [model.nodeAs];
        const v4 = await waitRoutes(r.daemon, 'ipv4', NODE.ipv4, (rs) => rs.length === 1 && rs[0].best);
        t.like(v4[0], { prefix: NODE_ROUTES.ipv4[0], asPath, nextHops: [NODE.ipv4] });
        const v6 = await waitRoutes(r.daemon, 'ipv6', NODE.ipv4, (rs) => rs.length === 1 && rs[0].best);
        t.like(v6[0], { prefix: NODE_ROUTES.ipv6[0], asPath });
        t.is(v6[0].nextHops[0], NODE.ipv6);
        // The ToR's at the driver, by its events and by its status.
        const wanted = [...TOR_ROUTES.ipv4, ...TOR_ROUTES.ipv6];
        for (const prefix of wanted) {
          await r.driver.waitFor((e) => e.ev === 'update' && e.key === r.key && (e.announced as string[] | undefined)?.includes(prefix) === true,
            `an UPDATE with ${prefix}`, UP_MS);
        }
        // FRR also sends our own routes back (with ORIGINATOR_ID, or our AS in the path): dropping
        // them is loop detection in the RIB, not the session's business. Nothing else may arrive.
        const status = await r.driver.session(r.key);
        // The UPDATE events written before that status answer are what its `received` counts.
        const answered = r.driver.events.map((e) => e.ev).lastIndexOf('status');
        const got = new Set(r.driver.events.slice(0, answered).filter((e) => e.ev === 'update' && e.key === r.key)
          .flatMap((e) => (e.announced as string[] | undefined) ?? []));
        const allowed = new Set([...wanted, ...NODE_ROUTES.ipv4, ...NODE_ROUTES.ipv6]);
        t.deepEqual([...got].filter((p) => !allowed.has(p)), [], 'only the ToR\'s routes and our own come in');
        t.like(status, { state: 'Established', received: got.size, peerAs: model.torAs, lastError: '' });
        t.false(r.driver.events.some((e) => e.ev === 'down'), 'no session drop');
      }));

    if (internal) {
      serial(title('the ToR reflects our routes to another client (ORIGINATOR_ID, CLUSTER_LIST) and theirs to us'), (t) =>
        withPair(t, model, { extraNeighbors: [{ address: CLIENT2.ipv4, as: model.torAs, rrClient: true, connectRetry: 1 }] },
          async (r) => {
            const client2 = await Frr.start(lab().lab, lab().client2Ns, {
              routerId: '10.80.255.3', localAs: model.torAs, routes: CLIENT2_ROUTES,
              neighbors: [{ address: TOR2.ipv4, as: model.torAs, connectRetry: 1 }],
            });
            try {
              await bothUp(r);
              const v4 = await waitRoutes(client2, 'ipv4', TOR2.ipv4,
                (rs) => rs.some((x) => x.prefix === NODE_ROUTES.ipv4[0] && x.best));
              t.like(v4.find((x) => x.prefix === NODE_ROUTES.ipv4[0]), {
                originatorId: NODE_ROUTER_ID, clusterList: [CLUSTER_ID], nextHops: [NODE.ipv4], asPath: [],
              });
              const v6 = await waitRoutes(client2, 'ipv6', TOR2.ipv4,
                (rs) => rs.some((x) => x.prefix === NODE_ROUTES.ipv6[0] && x.best));
              const ours6 = v6.find((x) => x.prefix === NODE_ROUTES.ipv6[0]);
              t.like(ours6, { originatorId: NODE_ROUTER_ID, clusterList: [CLUSTER_ID] });
              t.is(ours6?.nextHops[0], NODE.ipv6);
              for (const prefix of [...CLIENT2_ROUTES.ipv4, ...CLIENT2_ROUTES.ipv6]) {
                await r.driver.waitFor((e) => e.ev === 'update' && e.key === r.key &&
                  (e.announced as string[] | undefined)?.includes(prefix) === true, `reflected ${prefix}`, UP_MS);
              }
            } catch (err) {
              t.log(client2.logs());
              throw err;
            } finally {
              await client2.dispose();
            }
          }));
    }

    serial(title('the agent connects to a passive ToR, and reconnects within its retry time after a ToR restart'), (t) =>
      withPair(t, model, { tor: { passive: true }, connectRetrySeconds: 3 }, async (r) => {
        await bothUp(r);
        t.is(await lab().connector(), 'agent');
        const mark = r.driver.mark();
        await r.daemon.stop();
        await eventAfter(r.driver, mark, (e) => e.ev === 'down' && e.key === r.key, 'down after the ToR stopped');
        // Let the agent fail at least one connection attempt while the ToR is away.
        await eventAfter(r.driver, mark, (e) => e.ev === 'state' && e.key === r.key && e.to === 'Active', 'a refused attempt');
        const back = r.driver.mark();
        await r.daemon.restart();
        const restarted = Date.now();
        await eventAfter(r.driver, back, (e) => e.ev === 'established' && e.key === r.key, 'established again');
        const took = Date.now() - restarted;
        t.true(took <= 3000 + 1500, `reconnected ${took} ms after the restart (retry 3 s)`);
        await waitEstablished(r.daemon, NODE.ipv4, UP_MS);
      }));

    serial(title('MD5: the right key is up, a wrong key never'), (t) =>
      withPair(t, model, { tor: { password: 'rack-7-key' }, node: { passwordFile: lab().keyFile(`md5-${kind}-${model.torAs}`, 'rack-7-key') } },
        async (r) => {
          await bothUp(r);
          await r.daemon.reconfigure(r.torOptions({ tor: { password: 'another-key' } }));
          await waitFor(async () => (await r.driver.session(r.key))?.state !== 'Established',
            { timeoutMs: UP_MS, what: 'the session to drop after the key changed' });
          await neverUp(t, r, 'no session with mismatched MD5 keys');
        }));

    serial(title('GTSM on both sides is up'), (t) =>
      withPair(t, model, { tor: { ttlSecurity: 1 }, node: { ttlSecurity: 1, ttl: 255 } }, async (r) => {
        await bothUp(r);
        t.is((await r.driver.session(r.key))?.state, 'Established');
      }));

    if (!internal) {
      serial(title('GTSM: the agent refuses a ToR that sends TTL 1'), (t) =>
        withPair(t, model, { node: { ttlSecurity: 1, ttl: 255 } }, async (r) => {
          await neverUp(t, r, 'no session while the ToR sends TTL 1 to a GTSM agent');
        }));
    }

    serial(title('hold timer expiry on a frozen ToR, recovery after SIGCONT'), (t) =>
      withPair(t, model, { tor: { holdTime: 3 }, node: { holdTime: 3, keepaliveTime: 1 } }, async (r) => {
        await bothUp(r);
        t.like(await r.driver.session(r.key), { holdTime: 3 });
        const mark = r.driver.mark();
        r.daemon.pause();
        try {
          const down = await eventAfter(r.driver, mark, (e) => e.ev === 'down' && e.key === r.key, 'hold timer expiry', 10_000);
          t.is(down.reason, 'Hold timer expired');
          t.is((await r.driver.session(r.key))?.lastError, 'Hold timer expired');
        } finally {
          r.daemon.resume();
        }
        await bothUp(r, mark + 1);
      }));

    serial(title('a NOTIFICATION from the ToR (wrong AS for us) is our last error'), (t) =>
      withPair(t, model, { torThinksNodeAs: 65199 }, async (r) => {
        const session = await waitFor(async () => {
          const s = await r.driver.session(r.key);
          return s !== undefined && /^Received: .*Bad Peer AS/.test(s.lastError) ? s : undefined;
        }, { timeoutMs: UP_MS, what: 'lastError Received: ... Bad Peer AS' });
        t.is(session.lastError, 'Received: OPEN Message Error / Bad Peer AS');
        t.not(session.state, 'Established');
        const mark = r.driver.mark();
        await r.daemon.reconfigure(r.torOptions({ torThinksNodeAs: model.nodeAs }));
        await bothUp(r, mark);
        t.is((await r.driver.session(r.key))?.lastError, '');
      }));
  }
}
