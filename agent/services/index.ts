/** The anycast services room: health checks, their state machine and the monitor that runs them. */
export { checkers, execCheck, httpCheck, tcpCheck, type Outcome, type RunCheck } from './checks.js';
export { ServiceError, type ServiceErrorCode } from './errors.js';
export { announced, initialHealth, step, type CheckResult, type Health, type ServiceState, type Thresholds } from './fsm.js';
export { communityNumbers, ServiceMonitor, type MonitorOptions, type ServiceRoute, type ServiceStatus } from './monitor.js';
