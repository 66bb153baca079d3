/**
 * The control protocol (STYLE.md "Control and CLI"): NDJSON over a Unix socket,
 * `{id, cmd, args}` -> `{id, ok: true, data}` | `{id, ok: false, error: {code, message}}`.
 * StatusAnswer is SPEC.md's `agentctl status -o json`; `agentctl -o json` prints answers unchanged.
 * ControlHandlers is what agent/main.ts gives the ControlServer: the server knows nothing else.
 * CommandTypes names each command's arguments and answer; commands.ts is the table of what each
 * command does with them.
 */

/** Each command's arguments (as the CLI and the server parse them) and its answer's type. */
export interface CommandTypes {
  readonly status: { readonly args: NoArgs; readonly answer: StatusAnswer };
  readonly peers: { readonly args: { readonly address?: string }; readonly answer: readonly PeerAnswer[] };
  readonly routes: { readonly args: { readonly family?: 'ipv4' | 'ipv6'; readonly detail?: boolean }; readonly answer: readonly RouteAnswer[] };
  readonly wait: { readonly args: { readonly timeoutSeconds: number }; readonly answer: WaitAnswer };
  readonly reload: { readonly args: NoArgs; readonly answer: ReloadAnswer };
  readonly check: { readonly args: { readonly timeoutSeconds?: number }; readonly answer: CheckAnswer };
  readonly drain: { readonly args: NoArgs; readonly answer: DrainAnswer };
  readonly undrain: { readonly args: NoArgs; readonly answer: DrainAnswer };
  readonly version: { readonly args: NoArgs; readonly answer: VersionAnswer };
  readonly services: { readonly args: NoArgs; readonly answer: ServicesAnswer };
}

/** `agentctl drain` / `undrain` (SPEC.md "Drain"): the state now, and whether the command changed it. */
export interface DrainAnswer {
  readonly drained: boolean;
  readonly changed: boolean;
}

export type NoArgs = Readonly<Record<string, never>>;
export type Command = keyof CommandTypes;
export type ArgsOf<C extends Command> = CommandTypes[C]['args'];
export type AnswerOf<C extends Command> = CommandTypes[C]['answer'];

export interface ControlRequest {
  readonly id: number | string;
  readonly cmd: Command;
  readonly args?: Readonly<Record<string, unknown>>;
}

export interface ControlErrorBody {
  /** Stable: BAD_REQUEST, UNKNOWN_COMMAND, TOO_LARGE, NOT_PERMITTED, RELOAD_REFUSED, INTERNAL, ... */
  readonly code: string;
  readonly message: string;
}

export type ControlResponse =
  | { readonly id: number | string | null; readonly ok: true; readonly data: unknown }
  | { readonly id: number | string | null; readonly ok: false; readonly error: ControlErrorBody };

export interface PeerAnswer {
  /** The peer's address; an interface peer's interface name (BGP unnumbered). */
  readonly address: string;
  /** An interface peer's link-local neighbour, '' while none is known; absent for other peers. */
  readonly linkLocal?: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly type: 'node specific' | 'global' | 'node-to-node mesh';
  readonly asNumber: number;
  /** FSM state name. */
  readonly state: string;
  /** ISO 8601 UTC, e.g. 2026-11-21T17:38:47Z. */
  readonly since: string;
  /** FSM state, then the last error: `Active Socket: Connection refused`. */
  readonly info: string;
  readonly enabled: boolean;
  readonly prefixes: { readonly received: number; readonly accepted: number; readonly advertised: number };
  readonly capabilities?: readonly string[];
  readonly messages?: { readonly in: Readonly<Record<string, number>>; readonly out: Readonly<Record<string, number>> };
  readonly lastError?: string;
  /** The peer's BFD session (RFC 5880), present when BFD is enabled for it. */
  readonly bfd?: BfdAnswer;
}

export interface BfdAnswer {
  /** AdminDown | Down | Init | Up */
  readonly state: string;
  /** `multihop` (RFC 5883, UDP 4784) or `single-hop` (RFC 5881, UDP 3784). */
  readonly mode: 'single-hop' | 'multihop';
  /** The interface a single-hop session is bound to (a link-local peer); absent when none. */
  readonly interface?: string;
  /** Our last diagnostic in words (RFC 5880 section 4.1), e.g. `Control Detection Time Expired`. */
  readonly diagnostic: string;
  readonly remoteState: string;
  readonly remoteDiagnostic: string;
  readonly since: string;
  readonly localDiscriminator: number;
  readonly remoteDiscriminator: number;
  /** Intervals in force, ms: between our packets, and the Detection Time. */
  readonly txIntervalMs: number;
  readonly detectTimeMs: number;
  /** Configured. */
  readonly minRxMs: number;
  readonly minTxMs: number;
  readonly multiplier: number;
  /** The peer's C bit (RFC 5882 section 4.3). */
  readonly remoteControlPlaneIndependent: boolean;
  readonly upCount: number;
  readonly downCount: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
}

export interface StatusAnswer {
  readonly running: true;
  readonly routerId: string;
  readonly asNumber: number;
  readonly peers: readonly PeerAnswer[];
  readonly fib: { readonly routes: number; readonly inSync: boolean };
  /** RFC 8326 drain in force (SPEC.md "Drain"). */
  readonly drained: boolean;
  /** BFD packets discarded by reason (RFC 5880 section 6.8.6, RFC 5881 section 5), when BFD runs. */
  readonly bfd?: { readonly drops: Readonly<Record<string, number>> };
}

export interface RouteAnswer {
  readonly prefix: string;
  readonly family: 'ipv4' | 'ipv6';
  /** 'blackhole' for own blocks; otherwise next hops. */
  readonly kind: 'blackhole' | 'unicast';
  readonly nextHops: readonly { readonly via: string; readonly dev?: string; readonly onlink?: boolean; readonly peer: string }[];
  /** The decision step that picked the best path, e.g. `local-pref`, `as-path-length`, `router-id`. */
  readonly decidedBy?: string;
  /**
   * The best path's attributes (SPEC.md "Routing policy": route detail), as stored after import
   * policy: AS_PATH as text (`65001 65002`, an AS_SET in braces), communities `AS:value`, large
   * communities `global:local1:local2`, LOCAL_PREF (100 when the path had none), MED (absent when
   * the path had none), and the peers of the ECMP set ('local' for our own).
   */
  readonly asPath?: string;
  readonly communities?: readonly string[];
  readonly largeCommunities?: readonly string[];
  readonly localPref?: number;
  readonly med?: number;
  readonly peers?: readonly string[];
}

export interface ReloadAnswer {
  readonly applied: boolean;
  readonly peersAdded: readonly string[];
  readonly peersRemoved: readonly string[];
  readonly peersRestarted: readonly string[];
  /** Sessions that took a new peer type or passive flag without a restart (manager.ts RELABEL_ONLY). */
  readonly peersRelabelled?: readonly string[];
  readonly blocksAdded: readonly string[];
  readonly blocksRemoved: readonly string[];
  /** Anycast services added, removed, and started again (a new prefix or check); absent: none. */
  readonly servicesAdded?: readonly string[];
  readonly servicesRemoved?: readonly string[];
  readonly servicesRestarted?: readonly string[];
  /** policy.import changed: the Established peers asked to send their routes again (route refresh or restart). */
  readonly importRulesChanged?: boolean;
  readonly peersRefreshed?: readonly string[];
  /** policy.export changed: every peer was sent what differs. */
  readonly exportRulesChanged?: boolean;
  /** When refused: every problem, one per line, each naming its key. */
  readonly problems?: readonly string[];
}

/** `agentctl check` (SPEC.md): one row per check; `ok` is false when any row is `fail`. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckRow {
  /** sessions | fib | forwarding | tunnel | nexthop */
  readonly name: string;
  /** What was checked: a peer count, a sysctl, a device, a next hop address. */
  readonly target: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** nexthop rows: the small probe's round-trip time in milliseconds, when it was answered. */
  readonly rttMs?: number;
}

export interface CheckAnswer {
  readonly ok: boolean;
  readonly checks: readonly CheckRow[];
  /** The probe timeout this run used, in seconds. */
  readonly timeout: number;
  /** ISO 8601 UTC start of the run. */
  readonly at: string;
}

export interface WaitAnswer {
  readonly converged: boolean;
  /** Seconds waited, to a tenth. */
  readonly waited: number;
}

export interface VersionAnswer {
  readonly version: string;
  /** The node's name. */
  readonly node: string;
}

/** One anycast service (SPEC.md "Anycast services"). */
export interface ServiceAnswer {
  readonly name: string;
  readonly prefix: string;
  /** `up` and `drained` are announced; `down` is not. */
  readonly state: 'up' | 'down' | 'drained';
  /** ISO 8601 UTC: when the state last changed (or the service was configured). */
  readonly since: string;
  /** The last check's result; null before the first check ended. */
  readonly lastCheck: { readonly ok: boolean; readonly detail: string; readonly at: string } | null;
}

export interface ServicesAnswer {
  readonly services: readonly ServiceAnswer[];
}

/** Implemented by agent/main.ts. A thrown error becomes `{ok:false, error:{code:'INTERNAL'}}`. */
export interface ControlHandlers {
  status(): StatusAnswer;
  peers(address?: string): readonly PeerAnswer[];
  routes(family?: 'ipv4' | 'ipv6'): readonly RouteAnswer[];
  /** True when every configured peer is Established and the kernel matches the RIB. */
  converged(): boolean;
  reload(): Promise<ReloadAnswer>;
  /** Runs the data-plane checks; `timeoutSeconds` undefined: the config's check.timeout. */
  check(timeoutSeconds?: number): Promise<CheckAnswer>;
  version(): VersionAnswer;
  services(): ServicesAnswer;
  /** Drain on (true) or off (false): every peer is sent the change at once. */
  drain(on: boolean): DrainAnswer;
}
