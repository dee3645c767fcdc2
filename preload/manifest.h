/* SPDX-License-Identifier: MIT */
/* The manifest of memprof run: what each process did with its snapshots. */
#ifndef MEMPROF_MANIFEST_H
#define MEMPROF_MANIFEST_H

/* A snapshot written, by its absolute path. */
void mp_manifest_snapshot(const char *path);
/* An event that explains a missing snapshot, as "#KIND PID TEXT" with text2 and text3
 * appended (either may be NULL):
 * "start" (recording started; the program's path), "exec" (an exec in place; the path
 * exec'd), "child-exec" (an exec in a fork or vfork child that is not followed; the path),
 * "error" (a snapshot could not be written; its path and why). */
void mp_manifest_event(const char *kind, const char *text, const char *text2, const char *text3);

#endif
