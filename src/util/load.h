/*
 * load: how many tasks of other processes want a core right now, read
 * from /proc (the kernel's count of runnable tasks, less this process's
 * own running or runnable threads).  The CLI's wait policy looks at it as
 * csmpq starts; the engine's thread watch (src/nn/threads.c) between
 * nodes.
 *
 *     int n = csq_load_others();     (-1: /proc cannot tell)
 */
#ifndef CSQ_LOAD_H
#define CSQ_LOAD_H

/* Runnable tasks of other processes now, or -1 when /proc cannot say. */
int csq_load_others(void);

#endif
