import test from 'ava';
import { isRoot, Lab, waitFor } from '../helpers/netns.js';
import { buildFabric, disposeFabric, type Fabric } from './fabric.js';

test('smoke: two agents and a BIRD ToR exchange blocks', async (t) => {
  if (!isRoot) return t.fail('needs root');
  const lab = await Lab.create('smoke');
  let f: Fabric | undefined;
  try {
    f = await buildFabric(lab, 2);
    await f.agents[0].waitEstablished();
    const route = await waitFor(async () => {
      const { stdout } = await lab.ip(f!.agentNs[0], 'route', 'show', 'proto', '201');
      return stdout.includes('192.168.0.64/26 via 10.0.1.12') ? stdout : undefined;
    }, { timeoutMs: 20_000, what: 'n0 to install n1 block' });
    t.log(route);
    const st = await f.agents[0].ctl(['status']);
    t.log(st.stdout);
    t.regex(route, /blackhole 192\.168\.0\.0\/26/);
  } finally {
    if (f) t.log(f.agents[0]?.logs().split('\n').slice(-30).join('\n'));
    await disposeFabric(f);
    await lab.destroy();
  }
});
