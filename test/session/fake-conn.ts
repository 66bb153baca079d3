/**
 * A Connection stand-in for transmitter tests: every write is kept, nothing ever waits in the
 * socket, and each cork (one per transmitter flush) is counted. Not here: backpressure (the
 * transmit-reset and refresh-order tests have stand-ins that hold bytes).
 */
import { EventEmitter } from 'node:events';
import type { Connection } from '../../agent/session/connection.js';

export class FakeConn {
  readonly socket = new EventEmitter();
  readonly written: Uint8Array[] = [];
  /** Transmitter flushes (each corks the socket once). */
  corks = 0;
  closed = false;
  cork(): void {
    this.corks++;
  }
  uncork(): void {}
  get writableLength(): number {
    return 0;
  }
  write(bytes: Uint8Array): boolean {
    this.written.push(bytes);
    return true;
  }
  /** As the Transmitter takes it. */
  get conn(): Connection {
    return this as unknown as Connection;
  }
}
