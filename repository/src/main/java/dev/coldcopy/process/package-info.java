/**
 * Processes known only by pid (a daemon started with {@code --fork}, a server a crashed run left behind):
 * checked before they are signalled, and waited for by polling, since a process that is not our child
 * cannot be waited for.
 */
package dev.coldcopy.process;
