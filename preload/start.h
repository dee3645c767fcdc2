/* SPDX-License-Identifier: MIT */
/* Starting to record, once, from the first hook call or the constructor. */
#ifndef MEMPROF_START_H
#define MEMPROF_START_H

/* What recording needs, once; sets mp_active and mp_initialized when it starts. Safe inside
 * whatever malloc call comes first (see start.c). */
void mp_start_recording(void);
int mp_start_is_pending(void); /* no thread has begun mp_start_recording yet */

#endif
