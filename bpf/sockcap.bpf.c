// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sockcap.bpf.c - capture socket payloads at the syscall boundary.
 *
 * At syscall entry: keep the arguments of read/write-family syscalls (and
 * connect, accept, close) whose fd is a socket of interest.  At exit: the
 * return value says how many bytes moved; copy them out of the process's
 * buffers into the ring buffer, and advance that socket direction's stream
 * offset by exactly that many, so that every byte is either in a DATA event
 * or between two offsets that user space reports as lost.
 *
 * Two attach modes share the same handlers: tp_btf programs on
 * raw_syscalls:sys_enter/sys_exit (filtered by syscall number first), and
 * per-syscall tracepoints.  User space loads one set (bench/record.sh measured
 * which is cheaper; the other stays as a fallback).
 *
 * No per-CPU scratch buffer: BPF programs can be preempted on this kernel, and
 * a buffer shared by two of them would mix their bytes silently.  Payload is
 * copied straight into a ring-buffer reservation of the smallest of a few
 * constant sizes that fits (bpf_ringbuf_reserve needs a constant size).
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sockcap.h"
#include "sockcap.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- configuration, set by user space before load ------------------------ */
const volatile __u32 targ_pids[SC_MAX_PIDS] = {};
const volatile __u32 n_pids = 0;
const volatile __u16 targ_ports[SC_MAX_PORTS] = {};
const volatile __u32 n_ports = 0;
const volatile char targ_comm[SC_COMM_LEN] = {};
const volatile bool filter_comm = false;
const volatile __u32 self_tgid = 0;
/* Not rodata: as a known constant, a non-zero snaplen makes the verifier
 * specialise every chunk-size branch on it and give up ("sequence of 8193
 * jumps is too complex").  As a map value it is one unknown, verified once. */
__u32 snaplen = 0; /* 0: keep everything */

__u64 next_sock_id = 0;
/* Wake user space only when this much is waiting (set to an eighth of the
 * ring).  A wakeup per event costs an IRQ work and a context switch, which
 * profiling showed to be the largest single cost of recording; user space
 * also drains the ring every few milliseconds on its own. */
const volatile __u64 wakeup_bytes = 2u << 20;

/* ---- maps ------------------------------------------------------------------ */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* --buffer-size */
} events SEC(".maps");

/* Arguments of a syscall in progress, by thread. */
enum arg_kind { K_BUF = 1, K_IOV, K_MSG, K_MMSG, K_NOUSER, K_CONNECT, K_ACCEPT, K_CLOSE };

struct sc_args {
	__u64 sk;     /* struct sock * */
	__u64 inode;
	__u64 ptr;    /* buffer, iovec array, msghdr or mmsghdr array */
	__u64 cnt;    /* iovcnt, or vlen */
	__s32 fd;
	__u8 sys;     /* enum sc_bpf_sys */
	__u8 kind;    /* enum arg_kind */
	__u8 dir;
	__u8 last_ref;
};

/* Per-task state: the syscall in progress and whether this task's process
 * was announced.  Task storage is reached from the task itself, without the
 * hashing of a map keyed by pid, and goes away with the task. */
struct sc_task {
	struct sc_args a;
	__u8 in_syscall; /* `a` holds the arguments of the current syscall */
	__u8 announced;  /* a PROC event for this task's process reached user space */
	__u8 pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sc_task);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* struct sock * */
	__type(value, struct sc_sock_state);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tgid whose PROC event reached user space */
	__type(value, __u8);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SC_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline __u64 wake_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									    : BPF_RB_NO_WAKEUP;
}

static __always_inline void count(__u32 which, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		*c += n; /* per-CPU: no other writer */
}

/* ---- filters ------------------------------------------------------------------ */

static __always_inline bool want_task(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	if (n_pids) {
		bool hit = false;

		for (int i = 0; i < SC_MAX_PIDS; i++)
			if (i < n_pids && targ_pids[i] == tgid)
				hit = true;
		if (!hit)
			return false;
	}
	if (filter_comm) {
		char comm[SC_COMM_LEN];

		bpf_get_current_comm(comm, sizeof(comm));
		for (int i = 0; i < SC_COMM_LEN; i++) {
			if (comm[i] != targ_comm[i])
				return false;
			if (!comm[i])
				break;
		}
	}
	return true;
}

static __always_inline bool want_ports(__u16 lport, __u16 rport)
{
	if (!n_ports)
		return true;
	for (int i = 0; i < SC_MAX_PORTS; i++)
		if (i < n_ports && (targ_ports[i] == lport || targ_ports[i] == rport))
			return true;
	return false;
}

/* ---- events ---------------------------------------------------------------------- */

static __always_inline void fill_hdr(struct sc_ev_hdr *h, __u8 type, __u8 dir, __u8 sys, __u64 sock_id, __u32 len)
{
	__u64 id = bpf_get_current_pid_tgid();

	h->type = type;
	h->dir = dir;
	h->syscall = sys;
	h->flags = 0;
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->len = len;
	h->ts_ns = bpf_ktime_get_ns();
	h->sock_id = sock_id;
}

/* BPF_CORE_READ_INTO sizes its read by the destination's element type (one
 * byte for a char or __u8 array): read arrays with explicit sizes instead. */
static __always_inline void read_comm_ppid(char *comm, __u32 *ppid)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct task_struct *leader = BPF_CORE_READ(t, group_leader);

	if (bpf_core_read_str(comm, SC_COMM_LEN, &leader->comm) < 0)
		comm[0] = '\0';
	*ppid = BPF_CORE_READ(t, real_parent, tgid);
}

/* Tell user space the name of a process the first time it moves bytes.  The
 * task's own flag answers most calls without a map lookup. */
static __always_inline void note_process(struct sc_task *tk)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct sc_ev_proc *e;
	__u8 one = 1;

	if (tk && tk->announced)
		return;
	if (bpf_map_lookup_elem(&procs, &tgid)) {
		if (tk)
			tk->announced = 1;
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(SC_CNT_RB_DROP_EVENTS, 1);
		return; /* retried with the next event of this process */
	}
	fill_hdr(&e->h, SC_EV_PROC, 255, 0, 0, 0);
	e->pad = 0;
	read_comm_ppid(e->comm, &e->ppid);
	bpf_ringbuf_submit(e, wake_flags());
	bpf_map_update_elem(&procs, &tgid, &one, BPF_ANY);
	if (tk)
		tk->announced = 1;
}

/* Returns whether the LOSS event reached the ring buffer. */
static __always_inline bool emit_loss(__u64 sock_id, __u8 dir, __u8 sys, __u64 off, __u64 len, __u32 reason)
{
	struct sc_ev_loss *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(SC_CNT_RB_DROP_EVENTS, 1);
		count(SC_CNT_RB_DROP_LOSS, 1);
		return false;
	}
	fill_hdr(&e->h, SC_EV_LOSS, dir, sys, sock_id, 0);
	e->offset = off;
	e->len = len;
	e->reason = reason;
	e->pad = 0;
	bpf_ringbuf_submit(e, wake_flags());
	return true;
}

/* ---- pending losses: a LOSS is written before any later event of its stream ---- */

/* The lock guards one direction's pending loss.  It is only ever tried:
 * waiting in a BPF program for a lock whose holder may be preempted (these
 * programs can be, here) is not an option. */
static __always_inline bool pend_trylock(struct sc_sock_state *st, __u8 dir)
{
	return __sync_val_compare_and_swap(&st->pend_lock[dir & 1], 0, 1) == 0;
}

static __always_inline void pend_unlock(struct sc_sock_state *st, __u8 dir)
{
	__sync_lock_test_and_set(&st->pend_lock[dir & 1], 0); /* xchg: orders the writes above */
}

/* Write the pending loss of one direction, if there is one.  Returns true
 * when nothing is pending any more, false when it still is (the ring buffer is
 * full, or another program holds the lock): then no later byte of that
 * direction may be written before it. */
static __always_inline bool flush_pend(struct sc_sock_state *st, __u8 dir)
{
	struct sc_pend *p = &st->pend[dir & 1];
	struct sc_ev_loss *e;
	bool done = false;

	if (!*(volatile __u64 *)&p->len)
		return true; /* the common case: one load, no lock */
	if (!pend_trylock(st, dir))
		return false;
	if (!p->len) {
		done = true;
		goto out;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto out; /* still pending: not a dropped event, retried with the next one */
	fill_hdr(&e->h, SC_EV_LOSS, dir, p->syscall, st->sock_id, 0);
	/* The time and thread of the syscall that lost the bytes, not of now. */
	e->h.ts_ns = p->ts_ns;
	e->h.pid = p->pid;
	e->h.tid = p->tid;
	e->offset = p->off;
	e->len = p->len;
	e->reason = SC_BPF_LOSS_RINGBUF_FULL;
	e->pad = 0;
	bpf_ringbuf_submit(e, wake_flags());
	p->len = 0;
	count(SC_CNT_PEND_EVENTS, 1);
	done = true;
out:
	pend_unlock(st, dir);
	return done;
}

/* Bytes [off, off + len) of one direction could not be written (their event,
 * or a LOSS event before them, found the ring buffer full): add them to the
 * pending loss, which the next event of the socket writes first.  Only a
 * contiguous extension is kept; otherwise (another thread took the offsets
 * between, or holds the lock) the bytes stay a hole in the offsets, which user
 * space settles late and counts. */
static __always_inline void keep_lost(struct sc_sock_state *st, __u8 dir, __u8 sys, __u64 off, __u64 len)
{
	struct sc_pend *p = &st->pend[dir & 1];
	bool kept = false;

	if (!len)
		return;
	if (pend_trylock(st, dir)) {
		if (!p->len) {
			__u64 id = bpf_get_current_pid_tgid();

			p->off = off;
			p->len = len;
			p->ts_ns = bpf_ktime_get_ns();
			p->pid = id >> 32;
			p->tid = (__u32)id;
			p->syscall = sys;
			kept = true;
		} else if (p->off + p->len == off) {
			p->len += len;
			kept = true;
		}
		pend_unlock(st, dir);
	}
	if (!kept)
		count(SC_CNT_HOLE_BYTES, len);
}

/* What one syscall moved on one socket direction, and where its bytes are. */
struct sc_io {
	__u64 off;  /* stream offset of the first byte */
	__u64 len;  /* bytes moved */
	__u64 ubuf; /* a plain buffer, or 0 */
	__u64 iov;  /* else an iovec array */
	__u32 iovcnt;
	__u8 dir, sys;
	__u8 pad[2];
};

/* The bytes of `io` are lost for `reason`: a LOSS event, in order behind
 * whatever is pending, or else pending themselves (as ringbuf-full).  Global:
 * verified once, and its stack is not added to each caller's. */
__noinline int sc_lost(struct sc_sock_state *st, const struct sc_io *io, __u32 reason)
{
	__u8 dir, sys;

	if (!st || !io)
		return 0;
	dir = io->dir & 1;
	sys = io->sys;
	if (!flush_pend(st, dir) || !emit_loss(st->sock_id, dir, sys, io->off, io->len, reason))
		keep_lost(st, dir, sys, io->off, io->len);
	return 0;
}

static __always_inline void lost_range(struct sc_sock_state *st, __u8 dir, __u8 sys, __u64 off, __u64 len,
				       __u32 reason)
{
	struct sc_io io = { .off = off, .len = len, .dir = dir, .sys = sys };

	sc_lost(st, &io, reason);
}

/* Emit the OPEN event of a socket: addresses and ports from the kernel's
 * socket, so they are right on both ends and for sockets opened before
 * recording started.  Returns whether it reached the ring buffer. */
static __always_inline bool emit_open(struct sock *sk, struct sc_sock_state *st, __u8 how, __s32 fd, __u8 flags,
				      __u64 replaced_id, __u64 r0, __u64 r1)
{
	struct sc_ev_open *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u16 family;

	if (!e) {
		count(SC_CNT_RB_DROP_EVENTS, 1);
		count(SC_CNT_RB_DROP_OPEN, 1);
		return false;
	}
	fill_hdr(&e->h, SC_EV_OPEN, 255, 0, st->sock_id, 0);
	e->h.flags = flags;
	e->inode = st->inode;
	e->fd = fd;
	e->how = how;
	e->sock_type = SC_SOCK_STREAM_K;
	e->pad0 = 0;
	e->replaced_id = replaced_id;
	e->replaced_off[0] = r0;
	e->replaced_off[1] = r1;
	__builtin_memset(e->laddr, 0, sizeof(e->laddr));
	__builtin_memset(e->raddr, 0, sizeof(e->raddr));
	__builtin_memset(e->unix_path, 0, sizeof(e->unix_path));
	__builtin_memset(e->pad1, 0, sizeof(e->pad1));
	read_comm_ppid(e->comm, &e->ppid);
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == SC_AF_INET_K) {
		e->family = 4;
		bpf_core_read(e->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->raddr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == SC_AF_INET6_K) {
		e->family = 6;
		bpf_core_read(e->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		struct unix_sock *u = (struct unix_sock *)sk;
		struct unix_address *a = BPF_CORE_READ(u, addr);

		e->family = 1;
		e->lport = e->rport = 0;
		if (!a) {
			/* The connecting side: the listener's path. */
			struct unix_sock *peer = (struct unix_sock *)BPF_CORE_READ(u, peer);

			if (peer)
				a = BPF_CORE_READ(peer, addr);
		}
		if (a)
			bpf_probe_read_kernel(e->unix_path, sizeof(e->unix_path), &a->name[0].sun_path);
	}
	bpf_ringbuf_submit(e, wake_flags());
	return true;
}

/* A new state for socket `sk` (first sight, or its address reused by a new
 * socket: `old` is then the previous one's).  Not inlined: its state on the
 * stack would otherwise add to the deepest call chain's stack. */
static __noinline struct sc_sock_state *sock_state_new(struct sock *sk, struct sc_sock_state *old, __u64 inode,
						       __u8 how, __s32 fd)
{
	__u64 key = (__u64)sk;
	struct sc_sock_state ns = {};
	struct sc_sock_state *st;
	__u64 replaced = 0, r0 = 0, r1 = 0;
	__u8 flags = 0;

	if (old) {
		/* Same kernel address, different inode: the old socket was freed
		 * without a close we saw (process exit) and the memory reused. */
		replaced = old->sock_id;
		r0 = old->off[0];
		r1 = old->off[1];
		if (!(old->flags & SC_SOCK_IGNORED))
			flags |= SC_OPEN_F_REPLACED;
	}
	ns.sock_id = __sync_fetch_and_add(&next_sock_id, 1) + 1;
	ns.inode = inode;
	ns.pid = bpf_get_current_pid_tgid() >> 32;
	ns.flags = (__u64)how << SC_SOCK_HOW_SHIFT;
	{
		__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
		__u16 type = BPF_CORE_READ(sk, sk_type);
		bool ok = type == SC_SOCK_STREAM_K &&
			  (family == SC_AF_INET_K || family == SC_AF_INET6_K || family == SC_AF_UNIX_K);

		if (ok && family != SC_AF_UNIX_K)
			ok = want_ports(BPF_CORE_READ(sk, __sk_common.skc_num),
					bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)));
		else if (ok && n_ports)
			ok = false; /* --port selects IP sockets only */
		if (!ok)
			ns.flags |= SC_SOCK_IGNORED;
	}
	if (bpf_map_update_elem(&socks, &key, &ns, BPF_ANY)) {
		count(SC_CNT_STATE_FULL, 1);
		return NULL;
	}
	st = bpf_map_lookup_elem(&socks, &key);
	if (!st || (st->flags & SC_SOCK_IGNORED))
		return st;
	if (how == SC_BPF_HOW_EXISTING)
		flags |= SC_OPEN_F_MIDSTREAM;
	if (emit_open(sk, st, how, fd, flags, replaced, r0, r1))
		__sync_fetch_and_or(&st->flags, SC_SOCK_OPEN_SENT);
	return st;
}

/* The state of socket `sk`, created on first sight.  `how` says whether we
 * saw it born (connect/accept) or met it in the middle of its life. */
static __always_inline struct sc_sock_state *sock_state(struct sock *sk, __u64 inode, __u8 how, __s32 fd)
{
	__u64 key = (__u64)sk;
	struct sc_sock_state *st = bpf_map_lookup_elem(&socks, &key);

	if (st && st->inode == inode) {
		/* A dropped OPEN is retried with what was known when the state
		 * was made, so a connect()ed socket is not called mid-stream. */
		if (!(st->flags & (SC_SOCK_OPEN_SENT | SC_SOCK_IGNORED))) {
			__u8 first = (st->flags >> SC_SOCK_HOW_SHIFT) & 0xff;

			if (emit_open(sk, st, first, fd, first == SC_BPF_HOW_EXISTING ? SC_OPEN_F_MIDSTREAM : 0, 0, 0, 0))
				__sync_fetch_and_or(&st->flags, SC_SOCK_OPEN_SENT);
		}
		return st;
	}
	return sock_state_new(sk, st, inode, how, fd);
}

/* ---- payload ----------------------------------------------------------------------- */

struct chunk_ctx {
	__u64 sock_id;
	__u64 off;       /* stream offset of the next byte to emit */
	__u64 ubuf;      /* K_BUF: the buffer; else the current iovec's base */
	__u64 left;      /* bytes of the current buffer/iovec still to emit */
	__u64 remaining; /* bytes of the syscall still to emit */
	__u64 iov;       /* iovec array (user memory) */
	__u32 iovcnt, iovidx;
	__u32 orig_len;
	__u8 dir, sys;
	__u8 failed;     /* an event did not fit: the rest of the syscall is pending */
};

/* Reserve a DATA event for `n` bytes in the smallest of a few constant sizes
 * that fits (bpf_ringbuf_reserve needs a constant size).  Tiers 4x apart: at
 * most 4x the ring space of the payload, and small requests (the common
 * case) take little. */
#define TIER(SIZE)                                                                     \
	if (n <= (SIZE)) {                                                            \
		*cap = (SIZE);                                                        \
		return bpf_ringbuf_reserve(&events, sizeof(struct sc_ev_data) + (SIZE), 0); \
	}

static __always_inline struct sc_ev_data *reserve_data(__u32 n, __u32 *cap)
{
	TIER(128)
	TIER(512)
	TIER(2048)
	TIER(8192)
	TIER(SC_CHUNK_MAX)
	return NULL;
}

static __always_inline void emit_chunk(struct chunk_ctx *c, __u32 n)
{
	__u32 cap = 0;
	struct sc_ev_data *e = reserve_data(n, &cap);
	__u64 m = n;

	if (!e) {
		/* Nothing more of this syscall may reach the ring before the loss
		 * of these bytes: the caller makes the rest pending. */
		count(SC_CNT_RB_DROP_EVENTS, 1);
		count(SC_CNT_RB_DROP_BYTES, n);
		c->failed = 1;
		return;
	}
	/* Bound the very register passed to the helper: clang otherwise checks
	 * one copy of n and passes another (BPF-NOTES.md). */
	barrier_var(m);
	if (m > cap)
		m = cap;
	if (m > SC_CHUNK_MAX)
		m = SC_CHUNK_MAX;
	barrier_var(m);
	if (bpf_probe_read_user((void *)(e + 1), m, (const void *)c->ubuf)) {
		bpf_ringbuf_discard(e, 0);
		count(SC_CNT_READ_FAULT_BYTES, n);
		if (!emit_loss(c->sock_id, c->dir, c->sys, c->off, n, SC_BPF_LOSS_READ_FAULT)) {
			c->failed = 1;
			return;
		}
	} else {
		fill_hdr(&e->h, SC_EV_DATA, c->dir, c->sys, c->sock_id, m);
		e->offset = c->off;
		e->orig_len = c->orig_len;
		e->pad = 0;
		bpf_ringbuf_submit(e, wake_flags());
	}
	c->ubuf += n;
	c->off += n;
	c->left -= n;
	c->remaining -= n;
}

static long buf_step(__u32 i, void *arg)
{
	struct chunk_ctx *c = arg;
	__u64 n = c->left;

	if (n == 0 || c->failed)
		return 1;
	if (n > SC_CHUNK_MAX)
		n = SC_CHUNK_MAX;
	emit_chunk(c, (__u32)n);
	return 0;
}

static long iov_step(__u32 i, void *arg)
{
	struct chunk_ctx *c = arg;
	struct iovec v;
	__u64 n;

	if (c->remaining == 0 || c->failed)
		return 1;
	if (c->left == 0) {
		if (c->iovidx >= c->iovcnt || c->iovidx >= SC_MAX_IOV)
			return 1;
		if (bpf_probe_read_user(&v, sizeof(v), (const void *)(c->iov + (__u64)c->iovidx * sizeof(v))))
			return 1;
		c->iovidx++;
		c->ubuf = (__u64)v.iov_base;
		c->left = v.iov_len < c->remaining ? v.iov_len : c->remaining;
		return 0;
	}
	n = c->left;
	if (n > SC_CHUNK_MAX)
		n = SC_CHUNK_MAX;
	emit_chunk(c, (__u32)n);
	return 0;
}

/* Emit the bytes of `io`, from a plain buffer or from an iovec array.  What
 * cannot be read (more iovecs than SC_MAX_IOV) is reported as a loss, never
 * silently dropped.  Order: a pending loss of this direction first; then the
 * payload in offset order, then the snaplen loss of the tail; from the first
 * event that does not fit on, the rest of the syscall joins the pending loss
 * instead.  Global, so that the verifier checks it once for all its callers
 * (a map value arrives here as plain memory: atomics work on it alike). */
__noinline int sc_emit_payload(struct sc_sock_state *st, const struct sc_io *io)
{
	struct chunk_ctx c = {};
	__u64 off, len, end, keep;
	__u8 dir, sys;

	if (!st || !io)
		return 0;
	off = io->off;
	len = io->len;
	dir = io->dir & 1;
	sys = io->sys;
	end = off + len;
	keep = len;
	count(SC_CNT_SYSCALLS, 1);
	flush_pend(st, dir ^ 1); /* the other direction's, while we are here */
	if (!flush_pend(st, dir)) {
		keep_lost(st, dir, sys, off, len);
		return 0;
	}
	if (snaplen && keep > snaplen)
		keep = snaplen;
	c.sock_id = st->sock_id;
	c.off = off;
	c.remaining = keep;
	c.orig_len = (__u32)len;
	c.dir = dir;
	c.sys = sys;
	if (io->iov) {
		c.iov = io->iov;
		c.iovcnt = io->iovcnt;
		bpf_loop(SC_MAX_IOV + SC_MAX_CHUNKS, iov_step, &c, 0);
	} else {
		c.ubuf = io->ubuf;
		c.left = keep;
		bpf_loop(SC_MAX_CHUNKS, buf_step, &c, 0);
	}
	if (c.failed) {
		keep_lost(st, dir, sys, c.off, end - c.off);
		return 0;
	}
	if (c.remaining && !emit_loss(st->sock_id, dir, sys, c.off, c.remaining,
				      io->iov ? SC_BPF_LOSS_UNSUPPORTED : SC_BPF_LOSS_OTHER)) {
		keep_lost(st, dir, sys, c.off, end - c.off);
		return 0;
	}
	if (keep < len && !emit_loss(st->sock_id, dir, sys, off + keep, len - keep, SC_BPF_LOSS_SNAPLEN))
		keep_lost(st, dir, sys, off + keep, len - keep);
	return 0;
}

static __always_inline void emit_payload(struct sc_sock_state *st, __u8 dir, __u8 sys, __u64 off, __u64 len,
					 __u64 ubuf, __u64 iov, __u32 iovcnt)
{
	struct sc_io io = { .off = off, .len = len, .ubuf = ubuf, .iov = iov, .iovcnt = iovcnt, .dir = dir, .sys = sys };

	sc_emit_payload(st, &io);
}

struct mmsg_ctx {
	struct sc_sock_state *st;
	__u64 vec;
	__u32 nmsg;
	__u8 dir, sys;
};

/* The iovec array and count of a user_msghdr: only these two fields are
 * read, to keep the deepest call chain's stack small. */
static __always_inline int read_msg_iov(__u64 msghdr, struct sc_io *io)
{
	__u64 f[2]; /* msg_iov, msg_iovlen: adjacent in struct user_msghdr */

	_Static_assert(__builtin_offsetof(struct user_msghdr, msg_iovlen) ==
			       __builtin_offsetof(struct user_msghdr, msg_iov) + 8, "user_msghdr layout");
	if (bpf_probe_read_user(f, sizeof(f), (const void *)(msghdr + __builtin_offsetof(struct user_msghdr, msg_iov))))
		return -1;
	io->ubuf = 0;
	io->iov = f[0];
	io->iovcnt = (__u32)f[1];
	return 0;
}

static long mmsg_step(__u32 i, void *arg)
{
	struct mmsg_ctx *m = arg;
	struct sc_sock_state *st = m->st;
	__u64 h = m->vec + (__u64)i * sizeof(struct mmsghdr);
	struct sc_io io = { .dir = m->dir, .sys = m->sys };
	__u32 n;

	if (i >= m->nmsg || !st)
		return 1;
	if (bpf_probe_read_user(&n, sizeof(n), (const void *)(h + __builtin_offsetof(struct mmsghdr, msg_len))))
		return 1;
	if (n == 0)
		return 0;
	io.off = __sync_fetch_and_add(&st->off[m->dir & 1], n);
	io.len = n;
	if (i < SC_MAX_MMSG && read_msg_iov(h, &io) == 0)
		sc_emit_payload(st, &io);
	else
		sc_lost(st, &io, i < SC_MAX_MMSG ? SC_BPF_LOSS_READ_FAULT : SC_BPF_LOSS_UNSUPPORTED);
	return 0;
}

/* ---- syscall handlers -------------------------------------------------------------- */

/* Global (not static) functions: the verifier checks each once, instead of once
 * per tracepoint program that calls it. */
__noinline int sc_on_enter(__u32 sys, __u64 a0, __u64 a1, __u64 a2, __u64 a3)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct sc_args a = {};
	struct sc_task *tk;
	struct sock *sk;
	__u64 inode = 0;
	int fd = (int)a0;

	if (!want_task(id >> 32))
		return 0;
	a.sys = sys;
	switch (sys) {
	case SC_BPF_SYS_READ:
	case SC_BPF_SYS_RECVFROM:
		a.kind = K_BUF;
		a.dir = 1;
		a.ptr = a1;
		if (sys == SC_BPF_SYS_RECVFROM && (a3 & SC_MSG_PEEK))
			return 0; /* peeked bytes are read again later */
		break;
	case SC_BPF_SYS_WRITE:
	case SC_BPF_SYS_SENDTO:
		a.kind = K_BUF;
		a.dir = 0;
		a.ptr = a1;
		break;
	case SC_BPF_SYS_READV:
	case SC_BPF_SYS_WRITEV:
		a.kind = K_IOV;
		a.dir = sys == SC_BPF_SYS_READV;
		a.ptr = a1;
		a.cnt = a2;
		break;
	case SC_BPF_SYS_RECVMSG:
	case SC_BPF_SYS_SENDMSG:
		if (sys == SC_BPF_SYS_RECVMSG && (a2 & SC_MSG_PEEK))
			return 0;
		a.kind = K_MSG;
		a.dir = sys == SC_BPF_SYS_RECVMSG;
		a.ptr = a1;
		break;
	case SC_BPF_SYS_RECVMMSG:
	case SC_BPF_SYS_SENDMMSG:
		if (sys == SC_BPF_SYS_RECVMMSG && (a3 & SC_MSG_PEEK))
			return 0;
		a.kind = K_MMSG;
		a.dir = sys == SC_BPF_SYS_RECVMMSG;
		a.ptr = a1;
		a.cnt = a2;
		break;
	case SC_BPF_SYS_SENDFILE:
		a.kind = K_NOUSER; /* out_fd is a0; in_fd cannot be a socket */
		a.dir = 0;
		break;
	case SC_BPF_SYS_SPLICE:
		a.kind = K_NOUSER;
		a.dir = 0;
		fd = (int)a2; /* fd_out */
		sk = fd_sock(fd, &inode);
		if (!sk) {
			fd = (int)a0; /* fd_in */
			a.dir = 1;
		}
		break;
	case SC_BPF_SYS_CONNECT:
		a.kind = K_CONNECT;
		break;
	case SC_BPF_SYS_ACCEPT:
	case SC_BPF_SYS_ACCEPT4:
		a.kind = K_ACCEPT;
		a.sys = SC_BPF_SYS_ACCEPT;
		break;
	case SC_BPF_SYS_CLOSE:
		a.kind = K_CLOSE;
		break;
	default:
		return 0;
	}
	sk = fd_sock(fd, &inode);
	if (!sk)
		return 0;
	if (sys == SC_BPF_SYS_CLOSE) {
		__u64 key = (__u64)sk;

		/* Only sockets we track, and only the last reference. */
		if (!bpf_map_lookup_elem(&socks, &key))
			return 0;
		a.last_ref = fd_last_ref(fd);
		if (!a.last_ref)
			return 0;
	}
	a.sk = (__u64)sk;
	a.inode = inode;
	a.fd = fd;
	tk = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tk) {
		count(SC_CNT_ARGS_FULL, 1);
		return 0;
	}
	tk->a = a;
	tk->in_syscall = 1;
	return 0;
}

static __always_inline void on_close(struct sc_args *a)
{
	__u64 key = a->sk;
	struct sc_sock_state *st = bpf_map_lookup_elem(&socks, &key);
	struct sc_ev_close *e;

	if (!st || st->inode != a->inode)
		return;
	if (st->flags & SC_SOCK_IGNORED) {
		bpf_map_delete_elem(&socks, &key);
		return;
	}
	/* Pending losses go before the CLOSE; if one cannot, the state stays
	 * and user space writes both from it at stop. */
	bool out_done = flush_pend(st, 0), in_done = flush_pend(st, 1);

	if (!out_done || !in_done) {
		__sync_fetch_and_or(&st->flags, SC_SOCK_CLOSED);
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(SC_CNT_RB_DROP_EVENTS, 1);
		count(SC_CNT_RB_DROP_CLOSE, 1);
		/* Keep the state: user space reads it at stop and closes the socket. */
		__sync_fetch_and_or(&st->flags, SC_SOCK_CLOSED);
		return;
	}
	fill_hdr(&e->h, SC_EV_CLOSE, 255, 0, st->sock_id, 0);
	e->sent = st->off[0];
	e->recv = st->off[1];
	bpf_ringbuf_submit(e, wake_flags());
	bpf_map_delete_elem(&socks, &key);
}

__noinline int sc_on_exit(long ret)
{
	struct sc_task *tk = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0, 0);
	struct sc_sock_state *st;
	struct sc_args a;
	__u64 off;

	if (!tk || !tk->in_syscall)
		return 0;
	a = tk->a;
	tk->in_syscall = 0;

	switch (a.kind) {
	case K_CONNECT:
		if (ret == 0 || ret == -SC_EINPROGRESS) {
			st = sock_state((struct sock *)a.sk, a.inode, SC_BPF_HOW_CONNECT, a.fd);
			/* Named only when one of its sockets passes the filters. */
			if (st && !(st->flags & SC_SOCK_IGNORED))
				note_process(tk);
		}
		return 0;
	case K_ACCEPT: {
		__u64 inode = 0;
		struct sock *nsk;

		if (ret < 0)
			return 0;
		nsk = fd_sock((int)ret, &inode);
		if (nsk) {
			st = sock_state(nsk, inode, SC_BPF_HOW_ACCEPT, (int)ret);
			if (st && !(st->flags & SC_SOCK_IGNORED))
				note_process(tk);
		}
		return 0;
	}
	case K_CLOSE:
		if (ret == 0)
			on_close(&a);
		return 0;
	}
	if (ret <= 0)
		return 0;
	st = sock_state((struct sock *)a.sk, a.inode, SC_BPF_HOW_EXISTING, a.fd);
	if (!st || (st->flags & SC_SOCK_IGNORED))
		return 0;
	note_process(tk);
	if (a.kind == K_MMSG) {
		struct mmsg_ctx m = { st, a.ptr, (__u32)ret, a.dir, a.sys };

		/* ret counts messages; each message's length is in its header. */
		bpf_loop(1024, mmsg_step, &m, 0);
		return 0;
	}
	off = __sync_fetch_and_add(&st->off[a.dir & 1], (__u64)ret);
	switch (a.kind) {
	case K_BUF:
		emit_payload(st, a.dir, a.sys, off, ret, a.ptr, 0, 0);
		break;
	case K_IOV:
		emit_payload(st, a.dir, a.sys, off, ret, 0, a.ptr, (__u32)a.cnt);
		break;
	case K_MSG: {
		struct sc_io io = { .off = off, .len = ret, .dir = a.dir, .sys = a.sys };

		if (read_msg_iov(a.ptr, &io)) {
			count(SC_CNT_READ_FAULT_BYTES, ret);
			sc_lost(st, &io, SC_BPF_LOSS_READ_FAULT);
			break;
		}
		sc_emit_payload(st, &io);
		break;
	}
	case K_NOUSER:
		lost_range(st, a.dir, a.sys, off, ret, SC_BPF_LOSS_NOT_USER_MEMORY);
		break;
	}
	return 0;
}

/* ---- attach mode 1: raw_syscalls, one program pair for every syscall -------------- */

SEC("tp_btf/sys_enter")
int BPF_PROG(sc_raw_enter, struct pt_regs *regs, long nr)
{
	__u32 sys = sys_of_nr(nr);

	if (!sys)
		return 0;
	return sc_on_enter(sys, PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs),
			PT_REGS_PARM3_CORE_SYSCALL(regs), PT_REGS_PARM4_CORE_SYSCALL(regs));
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sc_raw_exit, struct pt_regs *regs, long ret)
{
	if (!sys_of_nr(SC_REGS_NR(regs)))
		return 0;
	return sc_on_exit(ret);
}

/* ---- attach mode 3: raw_syscalls sys_exit only ------------------------------------- */

/* The syscall's arguments are still in the task's pt_regs at exit (x86-64
 * and arm64 preserve them; arm64 keeps the first in orig_x0), so one program
 * on sys_exit can do the work of both: half the programs run per syscall on
 * the machine, and failed reads/writes (EAGAIN) cost nothing past the
 * syscall-number check.  close() is the exception: its fd is gone at exit,
 * so sys_enter_close keeps its own tracepoint (sc_tp_enter_close). */
SEC("tp_btf/sys_exit")
int BPF_PROG(sc_exit_only, struct pt_regs *regs, long ret)
{
	__u32 sys = sys_of_nr(SC_REGS_NR(regs));

	if (!sys)
		return 0;
	if (sys == SC_BPF_SYS_CLOSE)
		return sc_on_exit(ret);
	if (ret <= 0 && sys != SC_BPF_SYS_CONNECT && !(ret == 0 && (sys == SC_BPF_SYS_ACCEPT || sys == SC_BPF_SYS_ACCEPT4)))
		return 0;
	sc_on_enter(sys, PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs),
		    PT_REGS_PARM3_CORE_SYSCALL(regs), PT_REGS_PARM4_CORE_SYSCALL(regs));
	return sc_on_exit(ret);
}

/* ---- attach mode 2: per-syscall tracepoints ---------------------------------------- */

/* Each syscall's tracepoint context only has that syscall's arguments, and the
 * kernel refuses to attach a program that reads past them (EACCES from
 * perf_event_set_bpf_prog: max_ctx_offset): read only the first NARGS. */
#define SC_ARG(ctx, i, nargs) ((i) < (nargs) ? (ctx)->args[(i) < (nargs) ? (i) : 0] : 0)
#define SC_TP(name, SYS, NARGS)                                                                \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                           \
	int sc_tp_enter_##name(struct trace_event_raw_sys_enter *ctx)                         \
	{                                                                                      \
		return sc_on_enter(SYS, SC_ARG(ctx, 0, NARGS), SC_ARG(ctx, 1, NARGS),             \
				   SC_ARG(ctx, 2, NARGS), SC_ARG(ctx, 3, NARGS));                  \
	}                                                                                      \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                            \
	int sc_tp_exit_##name(struct trace_event_raw_sys_exit *ctx)                           \
	{                                                                                      \
		return sc_on_exit(ctx->ret);                                                   \
	}

SC_TP(read, SC_BPF_SYS_READ, 3)
SC_TP(write, SC_BPF_SYS_WRITE, 3)
SC_TP(readv, SC_BPF_SYS_READV, 3)
SC_TP(writev, SC_BPF_SYS_WRITEV, 3)
SC_TP(sendto, SC_BPF_SYS_SENDTO, 4)
SC_TP(recvfrom, SC_BPF_SYS_RECVFROM, 4)
SC_TP(sendmsg, SC_BPF_SYS_SENDMSG, 3)
SC_TP(recvmsg, SC_BPF_SYS_RECVMSG, 3)
SC_TP(sendmmsg, SC_BPF_SYS_SENDMMSG, 4)
SC_TP(recvmmsg, SC_BPF_SYS_RECVMMSG, 4)
SC_TP(sendfile64, SC_BPF_SYS_SENDFILE, 4)
SC_TP(splice, SC_BPF_SYS_SPLICE, 4)
SC_TP(connect, SC_BPF_SYS_CONNECT, 3)
SC_TP(accept, SC_BPF_SYS_ACCEPT, 3)
SC_TP(accept4, SC_BPF_SYS_ACCEPT4, 4)
SC_TP(close, SC_BPF_SYS_CLOSE, 1)
