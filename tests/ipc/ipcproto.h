/* The protocol between ipctest/vbench and ipcsrv (message labels). */
#ifndef IPCPROTO_H
#define IPCPROTO_H

enum ipc_label { IPC_SUM = 1, IPC_SIGNAL, IPC_ECHO, IPC_QUIT, IPC_ERROR };

#define IPC_SERVER_EP 0u /* ipcsrv's endpoint: its initial capability 0 */

/* "ipcsrv pong": waits on notification handle 1, signals handle 2. */
#define IPC_PONG_IN 1u
#define IPC_PONG_OUT 2u
#define IPC_PONG_QUIT 2u /* bit signalled to make it exit */

#endif
