/* sockcap.h - the ABI between bpf/sockcap.bpf.c and capture/ (libbpf-tools'
 * tool.h pattern): fixed-width fields, explicit padding, no includes.  Every
 * event starts with struct sc_ev_hdr; the consumer checks each sample's size
 * against these layouts before reading it.  capture/ pins the layout with
 * _Static_assert.  Bump SC_ABI_VERSION on any change.
 */
#ifndef SOCKCAP_ABI_H
#define SOCKCAP_ABI_H

#define SC_ABI_VERSION 2

#define SC_MAX_PIDS 8      /* -p filters */
#define SC_MAX_PORTS 8     /* --port filters */
#define SC_COMM_LEN 16
#define SC_UNIX_PATH_LEN 108
#define SC_MAX_IOV 64      /* iovecs read per readv/writev/sendmsg/recvmsg */
#define SC_MAX_MMSG 8      /* messages read per sendmmsg/recvmmsg */
#define SC_CHUNK_MAX 32768 /* largest payload in one event */
#define SC_MAX_CHUNKS 4096 /* chunks per syscall: 128 MiB, beyond it a LOSS(other) */

/* Syscall codes written into events: the values of enum sc_syscall in
 * formats/sc_types.h, repeated because bpf/ includes nothing of ours;
 * capture/ asserts that the two agree. */
enum sc_bpf_sys {
	SC_BPF_SYS_READ = 1,
	SC_BPF_SYS_WRITE = 2,
	SC_BPF_SYS_READV = 3,
	SC_BPF_SYS_WRITEV = 4,
	SC_BPF_SYS_SENDTO = 5,
	SC_BPF_SYS_RECVFROM = 6,
	SC_BPF_SYS_SENDMSG = 7,
	SC_BPF_SYS_RECVMSG = 8,
	SC_BPF_SYS_SENDFILE = 9,
	SC_BPF_SYS_CONNECT = 10,
	SC_BPF_SYS_ACCEPT = 11,
	SC_BPF_SYS_SPLICE = 12,
	SC_BPF_SYS_SENDMMSG = 13,
	SC_BPF_SYS_RECVMMSG = 14,
	SC_BPF_SYS_CLOSE = 16, /* internal: never written to a file */
	SC_BPF_SYS_ACCEPT4 = 17, /* internal: reported as accept */
};

/* How a socket became known: enum sc_sock_how, likewise. */
enum sc_bpf_how {
	SC_BPF_HOW_CONNECT = 1,
	SC_BPF_HOW_ACCEPT = 2,
	SC_BPF_HOW_EXISTING = 3,
};

/* Loss reasons: enum sc_loss_reason in formats/sc_types.h, likewise. */
enum sc_bpf_loss {
	SC_BPF_LOSS_RINGBUF_FULL = 1,
	SC_BPF_LOSS_SNAPLEN = 2,
	SC_BPF_LOSS_NOT_USER_MEMORY = 3,
	SC_BPF_LOSS_UNSUPPORTED = 4,
	SC_BPF_LOSS_READ_FAULT = 5,
	SC_BPF_LOSS_OTHER = 6,
};

enum sc_ev_type {
	SC_EV_DATA = 1,
	SC_EV_LOSS = 2,
	SC_EV_OPEN = 3,
	SC_EV_CLOSE = 4,
	SC_EV_PROC = 5,
};

/* Per-CPU counters (the `counters` array map), summed by user space. */
enum sc_counter {
	SC_CNT_RB_DROP_EVENTS,   /* failed bpf_ringbuf_reserve, any event */
	SC_CNT_RB_DROP_BYTES,    /* payload bytes in failed DATA reserves */
	SC_CNT_RB_DROP_OPEN,     /* OPEN events dropped (retried later) */
	SC_CNT_RB_DROP_CLOSE,    /* CLOSE events dropped */
	SC_CNT_RB_DROP_LOSS,     /* LOSS events dropped (bytes become a hole) */
	SC_CNT_READ_FAULT_BYTES, /* bytes whose user memory could not be read */
	SC_CNT_STATE_FULL,       /* socket state could not be created */
	SC_CNT_ARGS_FULL,        /* syscall arguments could not be stored */
	SC_CNT_SYSCALLS,         /* socket syscalls seen that moved bytes */
	SC_CNT_PEND_EVENTS,      /* LOSS events written late, from a socket's pending loss */
	SC_CNT_HOLE_BYTES,       /* lost bytes that could not join a pending loss: user space
				  * finds them as holes and settles them late */
	SC_CNT_MAX,
};

struct sc_ev_hdr {
	__u8 type;    /* enum sc_ev_type */
	__u8 dir;     /* 0 egress, 1 ingress, 255 n/a */
	__u8 syscall; /* enum sc_syscall (formats/sc_types.h values) */
	__u8 flags;
	__u32 pid;    /* tgid */
	__u32 tid;
	__u32 len;    /* DATA: payload bytes that follow */
	__u64 ts_ns;  /* bpf_ktime_get_ns() */
	__u64 sock_id;
};

struct sc_ev_data {
	struct sc_ev_hdr h;
	__u64 offset;   /* stream offset of payload[0] */
	__u32 orig_len; /* bytes the syscall moved */
	__u32 pad;
	/* __u8 payload[h.len] follows */
};

struct sc_ev_loss {
	struct sc_ev_hdr h;
	__u64 offset;
	__u64 len;
	__u32 reason; /* enum sc_loss_reason */
	__u32 pad;
};

#define SC_OPEN_F_MIDSTREAM 0x01
#define SC_OPEN_F_REPLACED 0x02 /* the state of an older socket at the same address was dropped */

struct sc_ev_open {
	struct sc_ev_hdr h;
	__u64 inode;
	__s32 fd;
	__u8 how;       /* enum sc_sock_how */
	__u8 family;    /* enum sc_family */
	__u8 sock_type; /* enum sc_sock_type */
	__u8 pad0;
	__u16 lport, rport; /* host order */
	__u32 ppid;
	__u8 laddr[16], raddr[16];
	__u64 replaced_id;  /* SC_OPEN_F_REPLACED: that socket's id */
	__u64 replaced_off[2];
	char comm[SC_COMM_LEN];
	char unix_path[SC_UNIX_PATH_LEN];
	__u8 pad1[4];
};

struct sc_ev_close {
	struct sc_ev_hdr h;
	__u64 sent, recv; /* final stream offsets */
};

struct sc_ev_proc {
	struct sc_ev_hdr h;
	__u32 ppid;
	__u32 pad;
	char comm[SC_COMM_LEN];
};

/* Bytes of one socket direction whose LOSS event could not be written yet
 * (the ring buffer was full).  The BPF side writes it before any later event
 * of that direction, so that in the file a LOSS never follows data of its
 * stream that came after it (formats/SKC-FORMAT.md, "What the writer
 * guarantees"); user space writes what is still pending at stop. */
struct sc_pend {
	__u64 off;
	__u64 len;   /* 0: nothing pending */
	__u64 ts_ns; /* when the syscall that moved the first of these bytes ran */
	__u32 pid, tid;
	__u8 syscall;
	__u8 pad[7];
};

/* Value of the `socks` map, keyed by the kernel's struct sock pointer.  User
 * space reads it at stop to learn the final stream offsets of open sockets
 * and the losses still pending. */
#define SC_SOCK_OPEN_SENT 0x01 /* the OPEN event reached the ring buffer */
#define SC_SOCK_IGNORED 0x02   /* excluded by --port, or not a stream socket */
#define SC_SOCK_CLOSED 0x04    /* closed, but the CLOSE event (or a LOSS before it) was dropped */
#define SC_SOCK_HOW_SHIFT 8    /* bits 8..15: enum sc_bpf_how, for a retried OPEN */

struct sc_sock_state {
	__u64 sock_id;
	__u64 inode;
	__u64 off[2];  /* bytes moved so far, by direction */
	__u64 flags;   /* SC_SOCK_* (64 bits: BPF atomics on 32-bit words need cpu v3) */
	__u32 pid;
	__u32 pad;
	/* A try-lock per direction over pend[dir]: taken with compare-and-swap,
	 * never waited for (a program that finds it taken leaves its bytes as a
	 * hole for user space to settle, counted in SC_CNT_HOLE_BYTES). */
	__u64 pend_lock[2];
	struct sc_pend pend[2];
};

#endif
