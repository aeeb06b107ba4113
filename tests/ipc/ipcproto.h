/* The protocol between ipctest/vbench and ipcsrv (message labels). */
#ifndef IPCPROTO_H
#define IPCPROTO_H

enum ipc_label {
	IPC_SUM = 1,
	IPC_SIGNAL,
	IPC_ECHO,
	IPC_QUIT,
	IPC_ERROR,
	IPC_NOT,   /* "ipcsrv short": reply the complement of each word */
	IPC_BADGE, /* "ipcsrv short": reply one word, the badge received */
	IPC_LONG,  /* "ipcsrv short": reply words[0] words through the buffer */
};

/* "ipcsrv shortsend": the words of its first two (short) sends; its third
 * send has IPC_SHORTSEND_LONG words i + 1 in its buffer. */
#define IPC_SHORTSEND_W 11, 22, 33, 44
#define IPC_SHORTSEND_W2 55, 66
#define IPC_SHORTSEND_LONG 6u

/* Words of an IPC_LONG reply: i * 3 + 1 for i < words[0] of the request. */
#define IPC_LONG_WORD(i) ((uint64_t)(i)*3 + 1)

#define IPC_SERVER_EP 0u /* ipcsrv's endpoint: its initial capability 0 */

/* "ipcsrv pong": waits on notification handle 1, signals handle 2. */
#define IPC_PONG_IN 1u
#define IPC_PONG_OUT 2u
#define IPC_PONG_QUIT 2u /* bit signalled to make it exit */

#endif
