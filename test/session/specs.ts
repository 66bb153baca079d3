/**
 * PeerSpecs and driver SPECs for the session tests: sensible defaults, overridden per test.
 */

import type { DriverSpec } from '../helpers/driver-client.js';
import type { PeerSpec } from '../../agent/contracts/engines.js';

export function peerSpec(o: Partial<PeerSpec> & Pick<PeerSpec, 'address' | 'localAs' | 'peerAs' | 'routerId'>): PeerSpec {
  const port = o.port ?? 179;
  const internal = o.localAs === o.peerAs;
  return {
    key: port === 179 ? o.address : o.address.includes(':') ? `[${o.address}]:${port}` : `${o.address}:${port}`,
    port,
    family: o.address.includes(':') ? 'ipv6' : 'ipv4',
    type: 'node specific',
    internal,
    localAddress: '',
    passwordFile: '',
    holdTime: 90,
    keepaliveTime: 30,
    sendHoldTime: null,
    ttlSecurity: 0,
    ttl: internal ? 255 : 1,
    nextHopMode: 'Auto',
    maxPrefixes: 0,
    passive: false,
    routeReflectorClient: false,
    families: ['ipv4', 'ipv6'],
    gracefulRestart: { enabled: true, restartTime: 120 },
    bfd: { enabled: false, minRxMs: 300, minTxMs: 300, multiplier: 3, strict: false, multihop: 'auto', minTtl: 0 },
    ...o,
  };
}

export function driverSpec(peers: PeerSpec[], o: Partial<DriverSpec> = {}): DriverSpec {
  return {
    listenPort: 179,
    peers,
    announce: { ipv4: [], ipv6: [] },
    nextHop: { ipv4: '', ipv6: '' },
    connectRetrySeconds: 1,
    idleHoldSeconds: 1,
    ...o,
  };
}
