/**
 * External programs run from argument lists (never a shell) with a timeout and captured output
 * ({@link dev.coldcopy.process.ProcessRunner}), and processes known only by pid (a daemon started with {@code --fork}, a server a crashed run left behind):
 * checked before they are signalled, and waited for by polling, since a process that is not our child
 * cannot be waited for.
 */
package dev.coldcopy.process;
