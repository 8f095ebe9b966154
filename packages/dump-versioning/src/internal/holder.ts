import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who holds a store lease or a filesystem-store lock, recorded in it, so that a holder killed on this
 * machine (Ctrl-C, SIGKILL, a cancelled workflow) is known to be gone at once instead of after the
 * lease's lifetime (devstack-dumps' cache locks use it too). Only a holder of this host, in this pid namespace (a container
 * sharing the host name has other pids), can be checked; anything else keeps the time-based expiry.
 */
export interface Holder {
  host: string;
  pid: number;
  /** Linux: the process's start time in clock ticks since boot, to tell a reused pid from the holder. */
  processStart?: string;
  /** Linux: the pid namespace (`pid:[4026531836]`); pids of another namespace mean nothing here. */
  pidNamespace?: string;
  /**
   * Linux: this boot of this machine (/proc/sys/kernel/random/boot_id). Host names repeat (runners made
   * from one image, `MacBook-Pro.local`) and every machine's initial pid namespace has the same id, so
   * only the boot id tells this machine from another one with the same name.
   */
  bootId?: string;
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name), or undefined where there is no /proc. */
export function processStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** This process, as recorded in what it holds. */
export function currentHolder(): Holder {
  const processStart = processStartOf(process.pid);
  const namespace = pidNamespace();
  const boot = bootId();
  return { host: hostname(), pid: process.pid, ...(processStart ? { processStart } : {}), ...(namespace ? { pidNamespace: namespace } : {}), ...(boot ? { bootId: boot } : {}) };
}

/** The holder recorded in a lease or lock body (JSON with host and pid), or undefined. */
export function holderOf(body: Buffer | string | undefined): Holder | undefined {
  if (body === undefined) return undefined;
  try {
    const parsed = JSON.parse(body.toString()) as Partial<Holder>;
    return typeof parsed.host === 'string' && Number.isInteger(parsed.pid) && parsed.pid! > 0 ? (parsed as Holder) : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when `holder` ran on this machine (same host name, boot id and pid namespace) and has ended: no process has
 * its pid, or (Linux, when recorded) the process with that pid started at another time. False when it
 * may still run, or cannot be checked from here (another host, no holder recorded).
 */
export function holderGone(holder: Holder | undefined, here: Holder = currentHolder()): boolean {
  // Only a holder of this boot of this machine, in this pid namespace, can be checked: without a boot id
  // (macOS, an older version's lease) the time-based expiry decides.
  if (!holder || holder.host !== here.host || holder.bootId === undefined || holder.bootId !== here.bootId || holder.pidNamespace !== here.pidNamespace) return false;
  if (!pidAlive(holder.pid)) return true;
  if (holder.processStart === undefined) return false;
  const current = holder.pid === here.pid ? here.processStart : processStartOf(holder.pid);
  return current !== undefined && current !== holder.processStart;
}

export const describeHolder = (holder: Holder | undefined) => (holder ? `pid ${holder.pid} on ${holder.host}` : 'a process that recorded no pid (an older version)');
